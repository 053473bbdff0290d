// Every kind of refusal, with its exact `file:line:col: key.path: message`.
#include <gtest/gtest.h>

#include "inventory/inventory_test_util.hpp"

namespace pib::inventory::test {
namespace {

using Lines = std::vector<std::string>;

// A node that needs nothing else (lines 2-3); tests append its keys from line 4.
const std::string kNode = "nodes:\n  - name: a\n    serial: 1a2b3c4d\n";

TEST(InventoryErrors, EmptyFileAndYamlSyntax) {
    EXPECT_EQ(errors(""),
              (Lines{"nodes.yaml:1:1: the inventory is empty (expected a map with nodes)"}));
    EXPECT_EQ(errors("nodes: [\n"),
              (Lines{"nodes.yaml:2:1: YAML syntax error: end of sequence flow not found"}));
    EXPECT_EQ(errors("nodes: []\n---\nnodes: []\n"),
              (Lines{"nodes.yaml:3:1: a fleet inventory is a single YAML document; remove the "
                     "second"}));
}

TEST(InventoryErrors, NodesIsRequiredAndAList) {
    EXPECT_EQ(errors("defaults: {channel: stable}\n"),
              (Lines{"nodes.yaml:1:1: nodes: missing required key"}));
    EXPECT_EQ(errors("nodes: {name: a}\n"),
              (Lines{"nodes.yaml:1:8: nodes: expected a list of nodes, got a map"}));
    EXPECT_EQ(errors("nodes:\n"),
              (Lines{"nodes.yaml:1:1: nodes: expected a list of nodes, got nothing"}));
    EXPECT_EQ(errors("nodes:\n  - pi-01\n"),
              (Lines{"nodes.yaml:2:5: nodes[0]: expected a map, got 'pi-01'"}));
}

TEST(InventoryErrors, UnknownKeysSuggestTheClosest) {
    EXPECT_EQ(errors("nodse: []\n"),
              (Lines{"nodes.yaml:1:1: nodse: unknown key (did you mean 'nodes'?)",
                     "nodes.yaml:1:1: nodes: missing required key"}));
    // A misspelt serial is not also reported as a node without serial or mac.
    EXPECT_EQ(errors("nodes:\n  - {name: a, serail: 1a2b3c4d}\n"),
              (Lines{"nodes.yaml:2:15: nodes[0].serail: unknown key (did you mean 'serial'?)"}));
    EXPECT_EQ(errors(kNode + "    network: {adress: 10.0.0.5/24}\n"),
              (Lines{"nodes.yaml:4:14: nodes[0].network.address: missing required key",
                     "nodes.yaml:4:15: nodes[0].network.adress: unknown key (did you mean "
                     "'address'?)"}));
}

TEST(InventoryErrors, PerNodeKeysAreNotDefaults) {
    EXPECT_EQ(errors("defaults: {name: x, channel: a, release: b}\nnodes: []\n"),
              (Lines{"nodes.yaml:1:12: defaults.name: unknown key (expected one of: channel, "
                     "release, fstab, authorized-keys, files, labels, kernel-args, root)",
                     "nodes.yaml:1:33: defaults.release: cannot be combined with 'channel' (a "
                     "node follows a channel or is pinned to a release)"}));
}

TEST(InventoryErrors, DuplicateYamlKeys) {
    EXPECT_EQ(errors("nodes:\n  - name: a\n    name: b\n    serial: 1a2b3c4d\n"),
              (Lines{"nodes.yaml:3:5: nodes[0].name: duplicate key (first given at line 2)"}));
    EXPECT_EQ(errors(kNode + "    labels: {rack: \"1\", rack: \"2\"}\n"),
              (Lines{"nodes.yaml:4:25: nodes[0].labels.rack: duplicate key (first given at line "
                     "4)"}));
}

TEST(InventoryErrors, NameIsRequiredAndADnsLabel) {
    EXPECT_EQ(errors("nodes:\n  - {serial: 1a2b3c4d}\n"),
              (Lines{"nodes.yaml:2:5: nodes[0].name: missing required key"}));
    EXPECT_EQ(
        errors("nodes:\n  - {name: Pi_01, serial: 1a2b3c4d}\n  - {name: -a, serial: 1a2b3c4e}\n"
               "  - {name: " +
               std::string(64, 'a') + ", serial: 1a2b3c4f}\n"),
        (Lines{"nodes.yaml:2:12: nodes[0].name: must be 1-63 of a-z 0-9 -, not starting or "
               "ending with '-', got 'Pi_01'",
               "nodes.yaml:3:12: nodes[1].name: must be 1-63 of a-z 0-9 -, not starting or "
               "ending with '-', got '-a'",
               "nodes.yaml:4:12: nodes[2].name: must be 1-63 of a-z 0-9 -, not starting or "
               "ending with '-', got '" +
                   std::string(60, 'a') + "...'"}));
}

TEST(InventoryErrors, Hostname) {
    EXPECT_EQ(errors(kNode + "    hostname: pi..lab\n"),
              (Lines{"nodes.yaml:4:15: nodes[0].hostname: must be a host name (labels of a-z 0-9 "
                     "- separated by '.', each 1-63 long and not starting or ending with '-'), "
                     "got 'pi..lab'"}));
    EXPECT_EQ(errors(kNode + "    hostname: pi-.lab\n").size(), 1u);
    EXPECT_EQ(errors(kNode + "    hostname: pi_1\n").size(), 1u);
}

TEST(InventoryErrors, Serial) {
    EXPECT_EQ(errors("nodes:\n  - {name: a, serial: 1a2b3c4}\n  - {name: b, serial: [1]}\n"),
              (Lines{"nodes.yaml:2:23: nodes[0].serial: must be a Raspberry Pi serial: 8 or 16 "
                     "hex digits, optionally with 0x, got '1a2b3c4'",
                     "nodes.yaml:3:23: nodes[1].serial: expected a string, got a list"}));
}

TEST(InventoryErrors, NodeNobodyCanRecognise) {
    EXPECT_EQ(errors("nodes:\n  - {name: a}\n  - name: b\n    labels: {}\n"),
              (Lines{"nodes.yaml:2:5: nodes[0]: give serial, mac or both (a node nobody can "
                     "recognise cannot boot)",
                     "nodes.yaml:3:5: nodes[1]: give serial, mac or both (a node nobody can "
                     "recognise cannot boot)"}));
}

TEST(InventoryErrors, Mac) {
    EXPECT_EQ(errors("nodes:\n  - name: a\n    mac:\n      - dc:a6:32:01:02:03\n"
                     "      - dc:a6:32:01:02\n"),
              (Lines{"nodes.yaml:5:9: nodes[0].mac[1]: must be a MAC address like "
                     "dc:a6:32:01:02:03, got 'dc:a6:32:01:02'"}));
    EXPECT_EQ(errors("nodes:\n  - name: a\n    mac: []\n"),
              (Lines{"nodes.yaml:3:10: nodes[0].mac: must not be empty"}));
    EXPECT_EQ(errors("nodes:\n  - name: a\n    mac: [dc:a6:32:01:02:03, DC-A6-32-01-02-03]\n"),
              (Lines{"nodes.yaml:3:30: nodes[0].mac[1]: duplicate MAC 'dc:a6:32:01:02:03': also "
                     "at nodes.yaml:3:11"}));
}

TEST(InventoryErrors, ChannelOrRelease) {
    EXPECT_EQ(errors(kNode + "    channel: canary\n    release: r1\n"),
              (Lines{"nodes.yaml:5:5: nodes[0].release: cannot be combined with 'channel' (a "
                     "node follows a channel or is pinned to a release)"}));
    EXPECT_EQ(errors("nodes:\n  - {name: a, serial: 1a2b3c4d, channel: Canary}\n"
                     "  - {name: b, serial: 1a2b3c4e, release: ../x}\n"),
              (Lines{"nodes.yaml:2:42: nodes[0].channel: must be a channel name: 1-63 of a-z 0-9 "
                     "-, not starting or ending with '-', got 'Canary'",
                     "nodes.yaml:3:42: nodes[1].release: must be a release id (letters, digits, "
                     "'.', '_', '-', '+'), got '../x'"}));
}

TEST(InventoryErrors, NetworkAddress) {
    EXPECT_EQ(errors(kNode + "    network: {address: 10.0.0.5}\n"),
              (Lines{"nodes.yaml:4:24: nodes[0].network.address: must be an address with its "
                     "prefix length like 192.168.1.50/24, got '10.0.0.5'"}));
    EXPECT_EQ(errors(kNode + "    network: {address: 10.0.0.0/24}\n"),
              (Lines{"nodes.yaml:4:24: nodes[0].network.address: is the network address of "
                     "10.0.0.0/24, got '10.0.0.0/24'"}));
    EXPECT_EQ(errors(kNode + "    network: {address: 10.0.0.255/24}\n"),
              (Lines{"nodes.yaml:4:24: nodes[0].network.address: is the broadcast address of "
                     "10.0.0.0/24, got '10.0.0.255/24'"}));
    // /31 (RFC 3021) and /32 have neither.
    EXPECT_TRUE(parse(kNode + "    network: {address: 10.0.0.0/31}\n").inventory);
}

TEST(InventoryErrors, NetworkGatewayAndDns) {
    EXPECT_EQ(errors(kNode + "    network: {address: 10.0.0.5/24, gateway: 10.0.1.1, dns: "
                             "[8.8.8.8, 1.1.1]}\n"),
              (Lines{"nodes.yaml:4:46: nodes[0].network.gateway: 10.0.1.1 is outside the node's "
                     "subnet 10.0.0.0/24",
                     "nodes.yaml:4:71: nodes[0].network.dns[1]: must be an IPv4 address like "
                     "192.168.1.1, got '1.1.1'"}));
    EXPECT_EQ(errors(kNode + "    network: {address: 10.0.0.5/24, gateway: 10.0.0.5}\n"),
              (Lines{"nodes.yaml:4:46: nodes[0].network.gateway: is the node's own address"}));
}

TEST(InventoryErrors, Fstab) {
    EXPECT_EQ(
        errors(kNode + "    fstab:\n      - {mountpoint: data, type: nfs4}\n"
                       "      - {device: x, mountpoint: /d, type: ext4, options: \"ro, noatime\", "
                       "dump: 2, pass: 3}\n"),
        (Lines{"nodes.yaml:5:9: nodes[0].fstab[0].device: missing required key",
               "nodes.yaml:5:22: nodes[0].fstab[0].mountpoint: must be an absolute path or none, "
               "got 'data'",
               "nodes.yaml:6:58: nodes[0].fstab[1].options: must not contain white space (write "
               "a space as \\040), got 'ro, noatime'",
               "nodes.yaml:6:79: nodes[0].fstab[1].dump: must be between 0 and 1, got 2",
               "nodes.yaml:6:88: nodes[0].fstab[1].pass: must be between 0 and 2, got 3"}));
}

TEST(InventoryErrors, FstabDuplicateMountpoint) {
    EXPECT_EQ(errors(kNode + "    fstab:\n      - {device: x, mountpoint: /d, type: ext4}\n"
                             "      - {device: y, mountpoint: /d, type: ext4}\n"
                             "      - {device: s1, mountpoint: none, type: swap}\n"
                             "      - {device: s2, mountpoint: none, type: swap}\n"),
              (Lines{"nodes.yaml:6:33: nodes[0].fstab[1].mountpoint: duplicate mountpoint '/d': "
                     "also at nodes.yaml:5:33"}));
}

TEST(InventoryErrors, AuthorizedKeys) {
    EXPECT_EQ(
        errors(kNode +
               "    authorized-keys:\n"
               "      - ssh-ed25519 AAAA... admin@lab\n"
               "      - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKjqgU5M7pNcGjmWBnMOLReUYQ "
               "admin@lab\n"
               "      - ssh-dss AAAAB3NzaC1kc3MAAACBAP admin@lab\n"
               "      - \"" +
               kAdminKey + "\\n" + kOpsKey + "\"\n"),
        (Lines{"nodes.yaml:5:9: nodes[0].authorized-keys[0]: the key data of this ssh-ed25519 "
               "key is damaged (cut short or mis-pasted?), got 'ssh-ed25519 AAAA... admin@lab'",
               "nodes.yaml:6:9: nodes[0].authorized-keys[1]: the key data of this ssh-ed25519 "
               "key is damaged (cut short or mis-pasted?), got 'ssh-ed25519 "
               "AAAAC3NzaC1lZDI1NTE5AAAAIKjqgU5M7pNcGjmWBnMOLReU...'",
               "nodes.yaml:7:9: nodes[0].authorized-keys[2]: must be an OpenSSH public key line "
               "like 'ssh-ed25519 AAAAC3Nza... comment', got 'ssh-dss AAAAB3NzaC1kc3MAAACBAP "
               "admin@lab'",
               "nodes.yaml:8:9: nodes[0].authorized-keys[3]: must be a single authorized_keys "
               "line"}));
    // A key type that is not the one inside the key data.
    EXPECT_EQ(
        errors(kNode + "    authorized-keys: [\"ssh-rsa" + kAdminKey.substr(11) + "\"]\n").size(),
        1u);
}

TEST(InventoryErrors, FilePaths) {
    EXPECT_EQ(
        errors(kNode + "    files:\n"
                       "      - {path: etc/motd, content: x}\n"
                       "      - {path: /etc/../shadow, content: x}\n"
                       "      - {path: /, content: x}\n"
                       "      - {path: /etc/, content: x}\n"
                       "      - {path: /proc/sys/x, content: x}\n"
                       "      - {path: /dev, content: x}\n"),
        (Lines{"nodes.yaml:5:16: nodes[0].files[0].path: must be an absolute path, got 'etc/motd'",
               "nodes.yaml:6:16: nodes[0].files[1].path: must not contain '..', got "
               "'/etc/../shadow'",
               "nodes.yaml:7:16: nodes[0].files[2].path: must name a file, not '/', got '/'",
               "nodes.yaml:8:16: nodes[0].files[3].path: must name a file, not a directory, got "
               "'/etc/'",
               "nodes.yaml:9:16: nodes[0].files[4].path: must not be under /proc (a filesystem "
               "is mounted there at boot), got '/proc/sys/x'",
               "nodes.yaml:10:16: nodes[0].files[5].path: must not be under /dev (a filesystem is "
               "mounted there at boot), got '/dev'"}));
}

TEST(InventoryErrors, FilesTheOverlayWritesItself) {
    EXPECT_EQ(
        errors(kNode + "    files:\n"
                       "      - {path: /etc/hostname, content: x}\n"
                       "      - {path: /etc/ssh/ssh_host_ed25519_key, content: x}\n"
                       "      - {path: /etc//fstab, content: x}\n"
                       "      - {path: /root/.ssh/authorized_keys, content: x}\n"
                       "      - {path: /etc/hosts, content: x}\n"
                       "      - {path: /etc/machine-id, content: x}\n"),
        (Lines{"nodes.yaml:5:16: nodes[0].files[0].path: '/etc/hostname' is generated from "
               "hostname: set hostname instead",
               "nodes.yaml:6:16: nodes[0].files[1].path: '/etc/ssh/ssh_host_ed25519_key' is an "
               "SSH host key: host keys are generated once per node and kept in the secrets "
               "directory; they cannot be given",
               "nodes.yaml:7:16: nodes[0].files[2].path: '/etc/fstab' is generated from fstab: "
               "use the fstab key instead",
               "nodes.yaml:8:16: nodes[0].files[3].path: '/root/.ssh/authorized_keys' is "
               "generated from authorized-keys: use that key instead",
               "nodes.yaml:9:16: nodes[0].files[4].path: '/etc/hosts' is generated from hostname "
               "and network: set those instead",
               "nodes.yaml:10:16: nodes[0].files[5].path: '/etc/machine-id' is generated once per "
               "node and kept across releases; it cannot be given"}));
}

TEST(InventoryErrors, FileContentSourceModeOwner) {
    EXPECT_EQ(
        errors(kNode + "    files:\n"
                       "      - {path: /a, content: x, source: y}\n"
                       "      - {path: /b}\n"
                       "      - {path: /c, content: x, mode: 8888}\n"
                       "      - {path: /d, content: x, mode: 17777}\n"
                       "      - {path: /e, content: x, owner: Root, group: -x}\n"
                       "      - {path: /f, content: [x], mode: [644]}\n"),
        (Lines{"nodes.yaml:5:32: nodes[0].files[0].source: cannot be combined with 'content' "
               "(give exactly one of content, source)",
               "nodes.yaml:6:9: nodes[0].files[1]: give content or source",
               "nodes.yaml:7:38: nodes[0].files[2].mode: '8888' is not an octal mode like \"0644\"",
               "nodes.yaml:8:38: nodes[0].files[3].mode: '17777' is not an octal mode like "
               "\"0644\"",
               "nodes.yaml:9:39: nodes[0].files[4].owner: must be a user or group name or a "
               "numeric id, got 'Root'",
               "nodes.yaml:9:52: nodes[0].files[4].group: must be a user or group name or a "
               "numeric id, got '-x'",
               "nodes.yaml:10:29: nodes[0].files[5].content: expected a string, got a list",
               "nodes.yaml:10:40: nodes[0].files[5].mode: expected an octal mode like \"0644\", "
               "got a list"}));
}

TEST(InventoryErrors, FileDuplicatePathAfterNormalising) {
    EXPECT_EQ(errors(kNode + "    files:\n"
                             "      - {path: /etc/motd, content: x}\n"
                             "      - {path: /etc/./motd, content: y}\n"),
              (Lines{"nodes.yaml:6:16: nodes[0].files[1].path: duplicate path '/etc/motd': also "
                     "at nodes.yaml:5:16"}));
}

TEST(InventoryErrors, LabelsAndKernelArgs) {
    EXPECT_EQ(errors(kNode + "    labels: {rack: [1], \"-x\": y, ok: \"a\\nb\"}\n"
                             "    kernel-args: \"a\\nb\"\n"),
              (Lines{"nodes.yaml:4:20: nodes[0].labels.rack: expected a string, got a list",
                     "nodes.yaml:4:25: nodes[0].labels.-x: must be 1-63 of letters, digits, '-', "
                     "'_', '.', '/', starting and ending with a letter or digit, got '-x'",
                     "nodes.yaml:4:38: nodes[0].labels.ok: must be a single line",
                     "nodes.yaml:5:18: nodes[0].kernel-args: must be a single line"}));
}

TEST(InventoryErrors, WrongTypes) {
    EXPECT_EQ(errors("nodes:\n  - {name: a, serial: 1a2b3c4d, fstab: {device: x}, files: "
                     "/etc/motd, labels: [a], authorized-keys: ssh-ed25519 x, network: 1}\n"),
              (Lines{"nodes.yaml:2:40: nodes[0].fstab: expected a list of fstab entries, got a map",
                     "nodes.yaml:2:60: nodes[0].files: expected a list of files, got '/etc/motd'",
                     "nodes.yaml:2:79: nodes[0].labels: expected a map of strings, got a list",
                     "nodes.yaml:2:101: nodes[0].authorized-keys: expected a list of strings, got "
                     "'ssh-ed25519 x'",
                     "nodes.yaml:2:125: nodes[0].network: expected a map, got '1'"}));
}

TEST(InventoryErrors, DuplicatesAcrossNodesNameBothPlaces) {
    EXPECT_EQ(
        errors("nodes:\n"
               "  - {name: pi-01, serial: 1a2b3c4d, mac: dc:a6:32:01:02:03, network: {address: "
               "10.0.0.5/24}}\n"
               "  - {name: pi-02, serial: 0x100000001A2B3C4D, mac: [DC-A6-32-01-02-03], "
               "network: {address: 10.0.0.5/16}}\n"),
        (Lines{"nodes.yaml:3:27: nodes[1].serial: duplicate serial '1a2b3c4d': also node 'pi-01' "
               "at nodes.yaml:2:27",
               "nodes.yaml:3:53: nodes[1].mac[0]: duplicate MAC 'dc:a6:32:01:02:03': also node "
               "'pi-01' at nodes.yaml:2:42",
               "nodes.yaml:3:92: nodes[1].network.address: duplicate address '10.0.0.5': also "
               "node 'pi-01' at nodes.yaml:2:80"}));
}

TEST(InventoryErrors, DuplicateNamesAndHostnames) {
    EXPECT_EQ(errors("nodes:\n"
                     "  - {name: pi-01, serial: 1a2b3c4d}\n"
                     "  - {name: pi-01, serial: 1a2b3c4e}\n"
                     "  - {name: b, hostname: PI-01, serial: 1a2b3c4f}\n"),
              (Lines{"nodes.yaml:3:12: nodes[1].name: duplicate name 'pi-01': also at "
                     "nodes.yaml:2:12",
                     "nodes.yaml:4:25: nodes[2].hostname: duplicate hostname 'pi-01': also node "
                     "'pi-01' at nodes.yaml:2:12"}));
}

TEST(InventoryErrors, EveryProblemAtOnceInFileOrder) {
    EXPECT_EQ(errors("defaults:\n"
                     "  chanel: stable\n"
                     "nodes:\n"
                     "  - name: pi-01\n"
                     "    serial: 1a2b3c4d\n"
                     "    files: [{path: /etc/hostname, content: x}]\n"
                     "  - name: pi-02\n"
                     "    serial: 1A2B3C4D\n"
                     "    fstab: [{device: x, mountpoint: /x, type: ext4, pass: 9}]\n"
                     "  - name: pi-03\n"
                     "    mac: dc:a6:32:01:02\n"),
              (Lines{"nodes.yaml:2:3: defaults.chanel: unknown key (did you mean 'channel'?)",
                     "nodes.yaml:6:20: nodes[0].files[0].path: '/etc/hostname' is generated from "
                     "hostname: set hostname instead",
                     "nodes.yaml:8:13: nodes[1].serial: duplicate serial '1a2b3c4d': also node "
                     "'pi-01' at nodes.yaml:5:13",
                     "nodes.yaml:9:59: nodes[1].fstab[0].pass: must be between 0 and 2, got 9",
                     "nodes.yaml:11:10: nodes[2].mac: must be a MAC address like "
                     "dc:a6:32:01:02:03, got 'dc:a6:32:01:02'"}));
}

TEST(InventoryErrors, RefusedResultCountsTheProblems) {
    Diagnostics diags;
    auto r =
        parse_inventory("nodes:\n  - {name: a}\n  - {name: b}\n", "/etc/pib/nodes.yaml", diags);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::invalid);
    EXPECT_EQ(r.error().message, "/etc/pib/nodes.yaml: inventory refused (2 problems)");
    EXPECT_EQ(diags.size(), 2u);
}

}  // namespace
}  // namespace pib::inventory::test

// The key tables of the steps: each list item is a map with exactly one of
// install, copy, write, run, enable, disable, mask, group, user, remove.
#include "builder/recipe_schema.hpp"
#include "builder/recipe_syntax.hpp"

namespace pib::recipe {

namespace {

template <class T, class U>
void set(T& dst, std::optional<U>&& v) {
    if (v) dst = std::move(*v);
}

// ---- ownership, shared by copy and write -----------------------------------

constexpr KeyDoc kModeDoc{.name = "mode",
                          .type = "octal string",
                          .default_note = "copy: the source's mode; write: `0644`",
                          .doc =
                              "File mode as octal digits, `\"0644\"` or `\"644\"`; an unquoted "
                              "0644 is read the same way.",
                          .example = "\"0755\""};
constexpr KeyDoc kOwnerDoc{.name = "owner",
                           .type = "string",
                           .default_note = "`root`",
                           .doc = "User name or numeric uid, resolved inside the root.",
                           .example = "kiosk"};
constexpr KeyDoc kGroupDoc{.name = "group",
                           .type = "string",
                           .default_note = "`root`",
                           .doc = "Group name or numeric gid, resolved inside the root.",
                           .example = "\"1000\""};

template <class T>
void read_mode(Reader& r, const Value& v, T& o) {
    // Modes are octal whatever YAML thinks: `mode: 644` means 0644, not 01204.
    if (!v.node.IsScalar()) return r.type_error(v, "an octal mode like \"0644\"");
    if (auto m = parse_mode(v.node.Scalar()))
        o.own.mode = *m;
    else
        r.error(v, quote_value(v.node.Scalar()) + " is not an octal mode like \"0644\"");
}
template <class T>
void read_owner(Reader& r, const Value& v, T& o) {
    set(o.own.owner, r.string(v, check_owner));
}
template <class T>
void read_group(Reader& r, const Value& v, T& o) {
    set(o.own.group, r.string(v, check_owner));
}

// ---- the step maps ---------------------------------------------------------

const Key<CopyStep> kCopyKeys[] = {
    {{.name = "src",
      .type = "path",
      .required = true,
      .doc =
          "Host file or directory (copied recursively); relative to the recipe, `${VAR}` expanded.",
      .example = "./files/motd"},
     [](Reader& r, const Value& v, CopyStep& o) {
         set(o.src, r.host_source(v, Reader::Kind::any, false));
     }},
    {{.name = "dest",
      .type = "path in root",
      .required = true,
      .doc = "Absolute destination inside the root.",
      .example = "/etc/motd"},
     [](Reader& r, const Value& v, CopyStep& o) { set(o.dest, r.string(v, check_root_path)); }},
    {kModeDoc, read_mode<CopyStep>},
    {kOwnerDoc, read_owner<CopyStep>},
    {kGroupDoc, read_group<CopyStep>},
};

const Key<WriteStep> kWriteKeys[] = {
    {{.name = "path",
      .type = "path in root",
      .required = true,
      .doc = "Absolute path of the file inside the root.",
      .example = "/etc/hostname"},
     [](Reader& r, const Value& v, WriteStep& o) { set(o.path, r.string(v, check_root_path)); }},
    {{.name = "content",
      .type = "string",
      .required = true,
      .doc = "The file's exact bytes (use a `|` block for several lines).",
      .example = "\"kiosk\\n\""},
     [](Reader& r, const Value& v, WriteStep& o) { set(o.content, r.string(v)); }},
    {kModeDoc, read_mode<WriteStep>},
    {kOwnerDoc, read_owner<WriteStep>},
    {kGroupDoc, read_group<WriteStep>},
};

const Key<GroupStep> kGroupKeys[] = {
    {{.name = "name", .type = "string", .required = true, .doc = "Group name.", .example = "kiosk"},
     [](Reader& r, const Value& v, GroupStep& o) { set(o.name, r.string(v, check_account)); }},
    {{.name = "gid",
      .type = "integer",
      .default_note = "allocated by groupadd",
      .doc = "Numeric group id.",
      .example = "2000"},
     [](Reader& r, const Value& v, GroupStep& o) { set(o.gid, r.integer(v, 0, 4294967294)); }},
    {{.name = "system",
      .type = "true/false",
      .default_yaml = "false",
      .doc = "Create a system group (id from the system range).",
      .example = "true"},
     [](Reader& r, const Value& v, GroupStep& o) { set(o.system, r.boolean(v)); }},
};

const Key<UserStep> kUserKeys[] = {
    {{.name = "name", .type = "string", .required = true, .doc = "User name.", .example = "kiosk"},
     [](Reader& r, const Value& v, UserStep& o) { set(o.name, r.string(v, check_account)); }},
    {{.name = "uid",
      .type = "integer",
      .default_note = "allocated by useradd",
      .doc = "Numeric user id.",
      .example = "2000"},
     [](Reader& r, const Value& v, UserStep& o) { set(o.uid, r.integer(v, 0, 4294967294)); }},
    {{.name = "group",
      .type = "string",
      .default_note = "a group named like the user",
      .doc = "Primary group (must exist in the root or be created by an earlier step).",
      .example = "kiosk"},
     [](Reader& r, const Value& v, UserStep& o) { set(o.group, r.string(v, check_account)); }},
    {{.name = "groups",
      .type = "list of strings",
      .default_yaml = "[]",
      .doc = "Supplementary groups.",
      .example = "[video, input]"},
     [](Reader& r, const Value& v, UserStep& o) {
         set(o.groups, r.strings(v, false, false, check_account));
     }},
    {{.name = "shell",
      .type = "path in root",
      .default_yaml = "/bin/bash",
      .doc = "Login shell.",
      .example = "/usr/sbin/nologin"},
     [](Reader& r, const Value& v, UserStep& o) { set(o.shell, r.string(v, check_root_path)); }},
    {{.name = "home",
      .type = "path in root",
      .default_note = "`/home/NAME`",
      .doc = "Home directory (created).",
      .example = "/var/lib/kiosk"},
     [](Reader& r, const Value& v, UserStep& o) { set(o.home, r.string(v, check_root_path)); }},
    {{.name = "password_hash",
      .type = "string",
      .default_note = "locked (no password login)",
      .doc = "crypt(3) hash for /etc/shadow, e.g. from `mkpasswd -m yescrypt`.",
      .example = "\"$y$j9T$...\""},
     [](Reader& r, const Value& v, UserStep& o) {
         set(o.password_hash, r.string(v, check_password_hash));
     }},
    {{.name = "system",
      .type = "true/false",
      .default_yaml = "false",
      .doc = "Create a system account (id from the system range, no aging).",
      .example = "true"},
     [](Reader& r, const Value& v, UserStep& o) { set(o.system, r.boolean(v)); }},
};

template <UnitsStep::Action A>
void read_units(Reader& r, const Value& v, Step& o) {
    UnitsStep s{A, {}};
    set(s.units, r.strings(v, true, true, check_unit));
    o.kind = std::move(s);
}

template <class T, std::size_t N>
void read_step_map(Reader& r, const Value& v, const Key<T> (&keys)[N], Step& o) {
    T s;
    read_map(r, v, keys, s);
    o.kind = std::move(s);
}

const Key<Step> kStepKeys[] = {
    {{.name = "install",
      .type = "list of strings",
      .doc = "Install Debian packages with apt-get inside the root.",
      .example = "[openssh-server, chromium]"},
     [](Reader& r, const Value& v, Step& o) {
         InstallStep s;
         set(s.packages, r.strings(v, false, true, check_package));
         o.kind = std::move(s);
     }},
    {{.name = "copy",
      .type = "map",
      .doc = "Copy a host file or directory into the root.",
      .example = "{src: ./files/motd, dest: /etc/motd, mode: \"0644\"}"},
     [](Reader& r, const Value& v, Step& o) { read_step_map(r, v, kCopyKeys, o); }},
    {{.name = "write",
      .type = "map",
      .doc = "Write a file with inline content.",
      .example = "{path: /etc/hostname, content: \"kiosk\\n\"}"},
     [](Reader& r, const Value& v, Step& o) { read_step_map(r, v, kWriteKeys, o); }},
    {{.name = "run",
      .type = "string",
      .doc = "Run a script with `/bin/sh -ec` chrooted into the root.",
      .example = "\"systemctl set-default graphical.target\""},
     [](Reader& r, const Value& v, Step& o) {
         RunStep s;
         set(s.script, r.string(v, check_script));
         o.kind = std::move(s);
     }},
    {{.name = "enable",
      .type = "string or list of strings",
      .doc = "Enable systemd units.",
      .example = "[ssh.service]"},
     read_units<UnitsStep::Action::enable>},
    {{.name = "disable",
      .type = "string or list of strings",
      .doc = "Disable systemd units.",
      .example = "apt-daily.timer"},
     read_units<UnitsStep::Action::disable>},
    {{.name = "mask",
      .type = "string or list of strings",
      .doc = "Mask systemd units.",
      .example = "[getty@tty1.service]"},
     read_units<UnitsStep::Action::mask>},
    {{.name = "group",
      .type = "map",
      .doc = "Create a group.",
      .example = "{name: kiosk, gid: 2000}"},
     [](Reader& r, const Value& v, Step& o) { read_step_map(r, v, kGroupKeys, o); }},
    {{.name = "user",
      .type = "map",
      .doc = "Create a user.",
      .example = "{name: kiosk, groups: [video]}"},
     [](Reader& r, const Value& v, Step& o) { read_step_map(r, v, kUserKeys, o); }},
    {{.name = "remove",
      .type = "string or list of strings",
      .doc = "Remove paths inside the root (absolute; shell globs allowed; missing is fine).",
      .example = "[\"/etc/ssh/ssh_host_*\"]"},
     [](Reader& r, const Value& v, Step& o) {
         RemoveStep s;
         set(s.paths, r.strings(v, true, true, check_remove_path));
         o.kind = std::move(s);
     }},
};

}  // namespace

void read_step(Reader& r, const Value& item, Step& out) { read_map(r, item, kStepKeys, out, true); }

std::vector<MapDoc> step_maps() {
    return {
        map_doc("steps[]", "One item of `steps`: what it does is named by its key.", kStepKeys,
                true),
        map_doc("steps[].copy", "", kCopyKeys),
        map_doc("steps[].write", "", kWriteKeys),
        map_doc("steps[].group", "", kGroupKeys),
        map_doc("steps[].user", "", kUserKeys),
    };
}

}  // namespace pib::recipe

#!/usr/bin/env bash
# Network-boots QEMU x86_64 machines (their built-in iPXE ROM, no disk) from
# netbootd, inside a private network namespace: a bridge with one tap device
# per machine, dnsmasq as the only address-giving DHCP server, and netbootd in
# proxy mode beside it. Nothing touches the host's network. Everything this
# script starts is stopped by PID, and the namespace removed, on exit.
#
#   scripts/netboot-vm.sh --store DIR --pubkey FILE --inventory FILE \
#       --vm 52:54:00:12:34:01 [--vm MAC ...] [--until REGEX] [--timeout SECONDS] \
#       [--show-console] [--workdir DIR] [--netbootd BIN] [--memory MB] [--nfs] [--uefi]
#
# Each machine's serial console goes to <workdir>/console-<n>.log; with
# --until the script waits until every console matches REGEX (exit 0) or the
# timeout passes (exit 1). Without --until it runs until interrupted.
#
# With --nfs, NFS-Ganesha (NFSv4 only, no rpcbind) runs in the namespace too
# and netbootd publishes every release through it (nfs.server: ganesha; its
# export file is <workdir>/ganesha-exports.conf, reloaded by SIGHUP). Nodes
# whose inventory entry says `root: nfs` then boot their root over NFS.
#
# With --uefi the machines run OVMF (Debian `ovmf`: OVMF_CODE.fd read-only,
# a copy of OVMF_VARS.fd per machine in <workdir>) and their NIC has no option
# ROM (romfile=), so the firmware's own UEFI PXE boots: netbootd's proxy offer
# names ipxe.efi, fetched by TFTP from netbootd's default ipxe-dir.
set -euo pipefail

store= pubkey= inventory= until_re= timeout=300 show=0 workdir= memory=1024 nfs=0 uefi=0
ovmf_code=/usr/share/OVMF/OVMF_CODE.fd ovmf_vars=/usr/share/OVMF/OVMF_VARS.fd
netbootd_bin="$(dirname "$0")/../build/netbootd/netbootd"
macs=()
while [ $# -gt 0 ]; do
  case "$1" in
    --store) store=$2; shift 2 ;;
    --pubkey) pubkey=$2; shift 2 ;;
    --inventory) inventory=$2; shift 2 ;;
    --vm) macs+=("$2"); shift 2 ;;
    --until) until_re=$2; shift 2 ;;
    --timeout) timeout=$2; shift 2 ;;
    --show-console) show=1; shift ;;
    --workdir) workdir=$2; shift 2 ;;
    --netbootd) netbootd_bin=$2; shift 2 ;;
    --memory) memory=$2; shift 2 ;;
    --nfs) nfs=1; shift ;;
    --uefi) uefi=1; shift ;;
    *) echo "netboot-vm: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -n "$store" ] && [ -n "$pubkey" ] && [ ${#macs[@]} -gt 0 ] || {
  echo "usage: $0 --store DIR --pubkey FILE [--inventory FILE] --vm MAC [--vm MAC ...]" >&2; exit 2; }
for tool in qemu-system-x86_64 dnsmasq ip; do
  command -v "$tool" >/dev/null || { echo "netboot-vm: $tool is not installed" >&2; exit 2; }
done
[ -x "$netbootd_bin" ] || { echo "netboot-vm: no netbootd at $netbootd_bin" >&2; exit 2; }
if [ "$uefi" = 1 ]; then
  for f in "$ovmf_code" "$ovmf_vars"; do
    [ -r "$f" ] || { echo "netboot-vm: $f is missing (Debian package ovmf)" >&2; exit 2; }
  done
fi

store=$(realpath "$store"); pubkey=$(realpath "$pubkey")
[ -z "$inventory" ] || inventory=$(realpath "$inventory")
own_workdir=0
if [ -z "$workdir" ]; then workdir=$(mktemp -d /tmp/netboot-vm.XXXXXX); own_workdir=1; fi
mkdir -p "$workdir"
# Absolute: dnsmasq and netbootd change directory, and a relative pid file or
# export path would point somewhere else.
workdir=$(realpath "$workdir")
ns="pibvm-$$"
subnet=10.231.$(( $$ % 250 ))
pids=()

cleanup() {
  local rc=${1:-$?}
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  ip netns del "$ns" 2>/dev/null || true
  [ "$own_workdir" = 1 ] && [ "$rc" = 0 ] && rm -rf "$workdir"
  exit "$rc"
}
# Interrupted or terminated is a failure (128 + signal), never "booted".
trap cleanup EXIT
trap 'cleanup 130' INT
trap 'cleanup 143' TERM

ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" link add br0 type bridge
ip -n "$ns" addr add "$subnet.1/24" dev br0
ip -n "$ns" link set br0 up

# The network's own DHCP server: addresses only, it knows nothing of booting.
ip netns exec "$ns" dnsmasq --keep-in-foreground --conf-file=/dev/null --port=0 \
  --interface=br0 --bind-interfaces --dhcp-range="$subnet.100,$subnet.199,255.255.255.0,1h" \
  --dhcp-leasefile="$workdir/dnsmasq.leases" --pid-file="$workdir/dnsmasq.pid" \
  --log-facility="$workdir/dnsmasq.log" --log-dhcp &
pids+=($!)

# NFS-Ganesha for --nfs: the config a Debian ganesha would have, cut down for
# a namespace (docs/nfs.md; tests/netbootd/nfs_exports_test.cpp does the same):
# NFSv4 over TCP only, so no rpcbind, NLM or RQUOTA; Graceless so it serves
# at once. The export file must exist before ganesha starts; netbootd fills it.
nfs_conf=
if [ "$nfs" = 1 ]; then
  command -v ganesha.nfsd >/dev/null || { echo "netboot-vm: ganesha.nfsd is not installed (nfs-ganesha nfs-ganesha-vfs)" >&2; exit 2; }
  : > "$workdir/ganesha-exports.conf"
  mkdir -p "$workdir/ganesha-recovery"
  cat > "$workdir/ganesha.conf" <<GANESHA
NFS_CORE_PARAM { Protocols = 4; NFS_Port = 2049; Enable_NLM = false; Enable_RQUOTA = false; Enable_UDP = false; }
NFSV4 { Graceless = true; RecoveryBackend = fs; RecoveryRoot = "$workdir/ganesha-recovery"; }
NFS_KRB5 { Active_krb5 = false; }
%include "$workdir/ganesha-exports.conf"
GANESHA
  ip netns exec "$ns" ganesha.nfsd -F -f "$workdir/ganesha.conf" -L "$workdir/ganesha.log" \
    -p "$workdir/ganesha.pid" -N NIV_EVENT > "$workdir/ganesha.out" 2>&1 &
  ganesha_pid=$!
  pids+=($ganesha_pid)
  nfs_conf="nfs: {enabled: true, server: ganesha, subnet: $subnet.0/24, exports-file: $workdir/ganesha-exports.conf, reload-command: [kill, -HUP, '$ganesha_pid']}"
fi

cat > "$workdir/netbootd.yaml" <<CONF
store: $store
public-key: $pubkey
${inventory:+inventory: $inventory}
listen: {interface: br0, address: $subnet.1}
user: root
group: root
$nfs_conf
CONF
ip netns exec "$ns" "$netbootd_bin" --config "$workdir/netbootd.yaml" --keep-privileges \
  2> "$workdir/netbootd.log" &
pids+=($!)
for _ in $(seq 100); do grep -q "netbootd ready" "$workdir/netbootd.log" 2>/dev/null && break; sleep 0.1; done
grep -q "netbootd ready" "$workdir/netbootd.log" || { cat "$workdir/netbootd.log" >&2; exit 1; }

if [ "$nfs" = 1 ]; then
  # netbootd wrote the exports and sent SIGHUP; ganesha says when it re-read them.
  for _ in $(seq 100); do grep -q "Reread exports complete" "$workdir/ganesha.log" 2>/dev/null && break; sleep 0.1; done
  kill -0 "$ganesha_pid" 2>/dev/null || { cat "$workdir/ganesha.log" "$workdir/ganesha.out" >&2; exit 1; }
fi

# KVM only when it is there; these machines boot under TCG (MACHINE-NOTES).
accel="tcg,thread=multi"
n=0
for mac in "${macs[@]}"; do
  n=$((n + 1))
  ip -n "$ns" tuntap add dev "tap$n" mode tap
  ip -n "$ns" link set "tap$n" master br0 up
  : > "$workdir/console-$n.log"
  if [ "$uefi" = 1 ]; then
    # OVMF's own PXE: no iPXE option ROM on the NIC, which boots first.
    cp "$ovmf_vars" "$workdir/ovmf-vars-$n.fd"
    firmware=(-drive "if=pflash,format=raw,unit=0,readonly=on,file=$ovmf_code"
              -drive "if=pflash,format=raw,unit=1,file=$workdir/ovmf-vars-$n.fd")
    nic="virtio-net-pci,netdev=n0,mac=$mac,romfile=,bootindex=1"
  else
    firmware=(-boot n)
    nic="virtio-net-pci,netdev=n0,mac=$mac"
  fi
  ip netns exec "$ns" qemu-system-x86_64 -accel "$accel" -cpu max -smp 1 -m "$memory" \
    -nodefaults -display none -serial "file:$workdir/console-$n.log" \
    -monitor "unix:$workdir/monitor-$n.sock,server,nowait" \
    -netdev "tap,id=n0,ifname=tap$n,script=no,downscript=no" \
    -device "$nic" "${firmware[@]}" &
  pids+=($!)
done
echo "netboot-vm: $n machine(s) booting; consoles in $workdir/console-*.log" >&2
[ "$show" = 1 ] && { tail -n +1 -f "$workdir/console-1.log" & pids+=($!); }

if [ -z "$until_re" ]; then
  wait "${pids[1]}"
  exit 0
fi
deadline=$(( $(date +%s) + timeout ))
while [ "$(date +%s)" -lt "$deadline" ]; do
  done_all=1
  for i in $(seq "$n"); do
    grep -qE "$until_re" "$workdir/console-$i.log" 2>/dev/null || done_all=0
  done
  [ "$done_all" = 1 ] && exit 0
  sleep 1
done
echo "netboot-vm: timed out after ${timeout}s waiting for /$until_re/" >&2
exit 1

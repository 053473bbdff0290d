#!/usr/bin/env bash
# Boot time of a diskless QEMU x86_64 node (TCG, virtio-net, QEMU's iPXE ROM,
# no disk) from QEMU start to the login prompt, by phase, in each of these
# setups, RUNS boots each, alternating setups so that drift in the machine's
# load hits all of them alike:
#
#   netbootd  dnsmasq gives addresses only; netbootd answers proxyDHCP beside it
#             and serves the iPXE script, kernel, pib initramfs, release and node
#             overlay over HTTP. pib-init fetches the manifest and its signature,
#             verifies them, hashes root.squashfs while receiving it into RAM,
#             fetches and verifies the node overlay, mounts, reports, switch_roots.
#   script    the seed-tutorial setup: dnsmasq does DHCP + TFTP + PXE (the iPXE
#             script over TFTP), nginx serves the SAME kernel and SAME
#             root.squashfs, and a busybox shell-script initramfs
#             (bench/boot/script_initramfs.sh) downloads the root with wget into
#             a tmpfs, mounts it under a tmpfs overlay, switch_roots. It
#             verifies nothing.
#   nfs       as netbootd, but the node's inventory entry says `root: nfs`:
#             NFS-Ganesha exports the release and pib-init mounts it read-only
#             through dm-verity. Only when the release has root.verity and
#             ganesha.nfsd is installed.
#
#   bench/boot_bench.sh [BUILD_DIR]        # as root; BUILD_DIR default <repo>/build
#
# Phases come from the serial console, each line stamped as it arrives
# (bench/boot/console_stamp.py; SeaBIOS's serial console shows iPXE's lines)
# and are cut by bench/boot/boot_phases.py: firmware DHCP, kernel + initramfs
# download, kernel init, root fetched + verified, mounts + switch_root,
# userspace to login. Bytes sent to the node per boot: netbootd's /metrics
# (HTTP, TFTP payload), nginx's access log ($bytes_sent), dnsmasq's TFTP log
# (file sizes), the NFS server's TCP sockets (ss bytes_sent, port 2049) and
# the tap device's transmit counter (every frame the node received).
#
# Everything runs in a network namespace this script creates (a bridge and one
# tap), with router advertisements from dnsmasq (RA=1, the default) so that
# iPXE does not wait ~13 s for IPv6 (MACHINE-NOTES) in any setup. Every
# process is started here and stopped by PID; the namespace and the work
# directory are removed on exit (KEEP_WORK=1 keeps the directory: consoles,
# server logs, results.jsonl).
#
# Environment:
#   RUNS (5)          boots per setup
#   SETUPS            default "netbootd script nfs" (nfs dropped when unavailable)
#   STORE (out/store) where the release is; KEY (out/pibuild.key, .pub beside it)
#   RELEASE           release id (default: the newest in STORE/releases)
#   MEMORY (1024)     guest MiB; TIMEOUT (600) seconds per boot
#   QUIET_LOAD (1.5)  wait up to QUIET_WAIT (300) s for the 1-minute load to drop
#                     under it before the first boot; the load is recorded per boot
#   RA (1)            dnsmasq answers router solicitations (0: iPXE waits for IPv6)
#   OUT               also copy results.jsonl, table.md and the consoles there
#   NETBOOTD, PIBUILD binaries (default from BUILD_DIR)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
NETBOOTD=${NETBOOTD:-$BUILD/netbootd/netbootd}
PIBUILD=${PIBUILD:-$BUILD/builder/pibuild}
RUNS=${RUNS:-5}
SETUPS=${SETUPS:-netbootd script nfs}
STORE=${STORE:-$ROOT/out/store}
KEY=${KEY:-$ROOT/out/pibuild.key}
MEMORY=${MEMORY:-1024}
TIMEOUT=${TIMEOUT:-600}
QUIET_LOAD=${QUIET_LOAD:-1.5}
QUIET_WAIT=${QUIET_WAIT:-300}
RA=${RA:-1}
HERE=$ROOT/bench/boot

[ "$(id -u)" = 0 ] || { echo "boot-bench: run as root (namespaces, QEMU taps)" >&2; exit 2; }
for t in "$NETBOOTD" "$PIBUILD"; do [ -x "$t" ] || { echo "boot-bench: no $t (build it)" >&2; exit 2; }; done
for c in qemu-system-x86_64 dnsmasq nginx ip ss curl python3 cpio zstd file apt-get dpkg-deb; do
  command -v "$c" >/dev/null || { echo "boot-bench: needs $c" >&2; exit 2; }
done
[ -f "$KEY" ] && [ -f "${KEY%.key}.pub" ] || { echo "boot-bench: no key pair $KEY (./run demo makes one)" >&2; exit 2; }
RELEASE=${RELEASE:-$(ls -t "$STORE/releases" 2>/dev/null | head -n 1)}
[ -n "$RELEASE" ] && [ -f "$STORE/releases/$RELEASE/manifest.json" ] ||
  { echo "boot-bench: no release in $STORE/releases (./run demo builds one)" >&2; exit 2; }
if [[ " $SETUPS " == *" nfs "* ]]; then
  if [ ! -f "$STORE/releases/$RELEASE/root.verity" ]; then
    echo "boot-bench: $RELEASE has no root.verity (built before dm-verity support): no nfs setup" >&2
    SETUPS=${SETUPS//nfs/}
  elif ! command -v ganesha.nfsd >/dev/null; then
    echo "boot-bench: ganesha.nfsd is not installed (nfs-ganesha nfs-ganesha-vfs): no nfs setup" >&2
    SETUPS=${SETUPS//nfs/}
  fi
fi

NS=pib-bootbench-$$
NET=10.232.$(($$ % 250))
SIP=$NET.1
WORK=$(mktemp -d /tmp/boot-bench.XXXXXX)
PIDS=()
stop_pids() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  PIDS=()
}
cleanup() {
  stop_pids
  ip netns del "$NS" 2>/dev/null || true
  if [ "${KEEP_WORK:-}" = 1 ]; then echo "boot-bench: work directory kept: $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
load() { cut -d' ' -f1 /proc/loadavg; }

# ---- what every setup serves ------------------------------------------------
# A store of our own: the release hard-linked (same bytes, no copy), overlays
# rendered for the two nodes. World-readable: ganesha squashes root.
chmod 755 "$WORK"
mkdir -p "$WORK/store/releases" "$WORK/www" "$WORK/tftp" "$WORK/runs"
cp -al "$STORE/releases/$RELEASE" "$WORK/store/releases/" 2>/dev/null ||
  cp -a "$STORE/releases/$RELEASE" "$WORK/store/releases/"  # another filesystem
REL=$WORK/store/releases/$RELEASE
KERNEL=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["boot"]["kernel"])' "$REL/manifest.json")
CMDLINE=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["boot"].get("cmdline",""))' "$REL/manifest.json")
MAC_HTTP=52:54:00:be:00:01 MAC_NFS=52:54:00:be:00:02 MAC_SCRIPT=52:54:00:be:00:03
{
  echo "nodes:"
  echo "  - {name: bench-http, hostname: bench-http, mac: \"$MAC_HTTP\", release: $RELEASE}"
  [[ " $SETUPS " != *" nfs "* ]] ||
    echo "  - {name: bench-nfs, hostname: bench-nfs, mac: \"$MAC_NFS\", release: $RELEASE, root: nfs}"
} > "$WORK/nodes.yaml"
"$PIBUILD" nodes render --inventory "$WORK/nodes.yaml" --store "$WORK/store" --key "$KEY" \
  --secrets "$WORK/secrets" > "$WORK/render.log" 2>&1 || { cat "$WORK/render.log" >&2; exit 1; }

# The baseline's files: Debian's static busybox (cached) and the same kernel.
CACHE=/var/tmp/pib-boot-bench
BUSYBOX=$CACHE/busybox-static/bin/busybox
if [ ! -x "$BUSYBOX" ]; then
  mkdir -p "$CACHE" && chmod 755 "$CACHE"
  (cd "$CACHE" && apt-get download busybox-static >/dev/null 2>&1) ||
    { echo "boot-bench: apt-get download busybox-static failed" >&2; exit 1; }
  dpkg-deb -x "$(ls -t "$CACHE"/busybox-static_*.deb | head -n 1)" "$CACHE/busybox-static"
fi
"$HERE/script_initramfs.sh" "$REL" "$BUSYBOX" "$WORK/www/initrd.img"
ln "$REL/$KERNEL" "$WORK/www/vmlinuz"
ln "$REL/root.squashfs" "$WORK/www/root.squashfs"
cat > "$WORK/tftp/boot.ipxe" <<EOF
#!ipxe
kernel http://$SIP/vmlinuz initrd=initrd.img $CMDLINE bench.root=http://$SIP/root.squashfs
initrd --name initrd.img http://$SIP/initrd.img
boot
EOF
printf '\xf8\x03' > "$WORK/sercon-port"  # SeaBIOS: mirror the text console (iPXE) on COM1

# ---- the network -----------------------------------------------------------
ip netns add "$NS"
ip netns exec "$NS" ip link set lo up
ip netns exec "$NS" ip link add br0 type bridge
ip netns exec "$NS" ip addr add "$SIP/24" dev br0
ip netns exec "$NS" ip addr add fd00:be::1/64 dev br0 nodad
ip netns exec "$NS" ip link set br0 up
ip netns exec "$NS" ip tuntap add dev tap0 mode tap
ip netns exec "$NS" ip link set tap0 master br0 up

# ---- servers, per setup ----------------------------------------------------
start_dnsmasq() {  # $@: extra options
  local ra=()
  [ "$RA" = 1 ] && ra=(--enable-ra "--dhcp-range=fd00:be::,ra-only")
  rm -f "$WORK/dnsmasq.leases"
  ip netns exec "$NS" dnsmasq --keep-in-foreground --conf-file=/dev/null --port=0 --interface=br0 --bind-interfaces \
    --dhcp-range="$NET.100,$NET.199,255.255.255.0,1h" "${ra[@]}" --dhcp-leasefile="$WORK/dnsmasq.leases" \
    --pid-file= --log-facility="$RUN_DIR/dnsmasq.log" --log-dhcp --user=root "$@" &
  PIDS+=($!)
}

start_netbootd() {  # $1: extra YAML line (nfs)
  cat > "$RUN_DIR/netbootd.yaml" <<EOF
store: $WORK/store
public-key: ${KEY%.key}.pub
inventory: $WORK/nodes.yaml
listen: {interface: br0, address: $SIP}
user: root
group: root
${1:-}
EOF
  ip netns exec "$NS" "$NETBOOTD" --config "$RUN_DIR/netbootd.yaml" --keep-privileges 2> "$RUN_DIR/netbootd.log" &
  PIDS+=($!)
  local i
  for i in $(seq 200); do grep -q "netbootd ready" "$RUN_DIR/netbootd.log" && return 0; sleep 0.1; done
  cat "$RUN_DIR/netbootd.log" >&2
  return 1
}

start_ganesha() {  # NFSv4 only, no rpcbind, Graceless (as scripts/netboot-vm.sh --nfs)
  : > "$RUN_DIR/exports.conf"
  mkdir -p "$RUN_DIR/recovery"
  cat > "$RUN_DIR/ganesha.conf" <<EOF
NFS_CORE_PARAM { Protocols = 4; NFS_Port = 2049; Enable_NLM = false; Enable_RQUOTA = false; Enable_UDP = false; }
NFSV4 { Graceless = true; RecoveryBackend = fs; RecoveryRoot = "$RUN_DIR/recovery"; }
NFS_KRB5 { Active_krb5 = false; }
%include "$RUN_DIR/exports.conf"
EOF
  ip netns exec "$NS" ganesha.nfsd -F -f "$RUN_DIR/ganesha.conf" -L "$RUN_DIR/ganesha.log" -p "$RUN_DIR/ganesha.pid" \
    -N NIV_EVENT > "$RUN_DIR/ganesha.out" 2>&1 &
  GANESHA_PID=$!
  PIDS+=("$GANESHA_PID")
}

start_nginx() {
  mkdir -p "$RUN_DIR/nginx"
  cat > "$RUN_DIR/nginx/nginx.conf" <<EOF
daemon off;
user root;
worker_processes auto;
pid $RUN_DIR/nginx/nginx.pid;
error_log $RUN_DIR/nginx/error.log warn;
events { worker_connections 64; }
http {
    sendfile on;
    types { application/octet-stream squashfs img; }
    default_type application/octet-stream;
    log_format bytes '\$remote_addr "\$request" \$status \$bytes_sent';
    access_log $RUN_DIR/nginx/access.log bytes;
$(for t in client_body proxy fastcgi uwsgi scgi; do echo "    ${t}_temp_path $RUN_DIR/nginx/$t;"; done)
    server { listen $SIP:80; root $WORK/www; }
}
EOF
  ip netns exec "$NS" nginx -c "$RUN_DIR/nginx/nginx.conf" -p "$RUN_DIR/nginx" 2>> "$RUN_DIR/nginx/error.log" &
  PIDS+=($!)
  local i
  for i in $(seq 100); do ip netns exec "$NS" curl -sfI -o /dev/null "http://$SIP/vmlinuz" && return 0; sleep 0.1; done
  cat "$RUN_DIR/nginx/error.log" >&2
  return 1
}

start_setup() {
  case "$1" in
    netbootd)
      MAC=$MAC_HTTP
      start_dnsmasq
      start_netbootd ;;
    nfs)
      MAC=$MAC_NFS
      start_dnsmasq
      start_ganesha
      start_netbootd "nfs: {enabled: true, server: ganesha, subnet: $NET.0/24, exports-file: $RUN_DIR/exports.conf, reload-command: [kill, -HUP, '$GANESHA_PID']}"
      local i
      for i in $(seq 200); do grep -q "Reread exports complete" "$RUN_DIR/ganesha.log" 2>/dev/null && break; sleep 0.1; done
      grep -q "Reread exports complete" "$RUN_DIR/ganesha.log" ||
        { echo "boot-bench: ganesha did not load the exports" >&2; cat "$RUN_DIR/ganesha.log" >&2; return 1; } ;;
    script)
      MAC=$MAC_SCRIPT
      # What the tutorials write: iPXE (option 175) gets a script by TFTP.
      start_dnsmasq --enable-tftp --tftp-root="$WORK/tftp" --dhcp-match=set:ipxe,175 \
        --dhcp-boot=tag:ipxe,boot.ipxe
      start_nginx ;;
  esac
}

# ---- what a boot sent ------------------------------------------------------
tap_tx() { ip netns exec "$NS" cat /sys/class/net/tap0/statistics/tx_bytes; }

# netbootd_sent_bytes_total{protocol="http"} from /metrics.
metric() {
  ip netns exec "$NS" curl -sf "http://$SIP/metrics" | awk -v p="$1" '$1 ~ /^netbootd_sent_bytes_total/ && index($1, "\"" p "\"") { print $2 }'
}

# pib-init's report as netbootd logged it: {"modules": ms, ...}.
pib_report() {
  grep -h 'report' "$RUN_DIR/netbootd.log" | grep 'kind=boot' | tail -n 1 |
    python3 -c 'import re,sys,json; print(json.dumps({k: int(v) for k, v in re.findall(r"(\w+)_ms=(\d+)", sys.stdin.read())}))'
}

collect() {  # prints KEY=VALUE words for boot_phases.py
  local setup=$1 tx=$(($(tap_tx) - TX0))
  echo "bytes_all_frames_to_node=$tx"
  case "$setup" in
    netbootd|nfs)
      echo "bytes_http_netbootd=$(metric http)"
      echo "bytes_tftp_netbootd=$(metric tftp)"
      echo "pib_phases=$(pib_report)" ;;
    script)
      # Only what the node fetched (not the readiness probe from the server itself).
      echo "bytes_http_nginx=$(awk -v sip="$SIP" '$1 != sip { s += $NF } END { print s + 0 }' "$RUN_DIR/nginx/access.log")"
      # dnsmasq logs each TFTP file it sent; the payload is the file's size.
      local n
      n=$(grep -c 'dnsmasq-tftp.*sent .*boot.ipxe' "$RUN_DIR/dnsmasq.log" || true)
      echo "bytes_tftp_dnsmasq=$((n * $(stat -c %s "$WORK/tftp/boot.ipxe")))" ;;
  esac
  if [ "$setup" = nfs ]; then
    # The NFS server's TCP sockets to the node, still open: bytes it sent.
    echo "bytes_nfs_ganesha=$(ip netns exec "$NS" ss -tinH state established '( sport = :2049 )' |
      grep -o 'bytes_sent:[0-9]*' | cut -d: -f2 | awk '{ s += $1 } END { print s + 0 }')"
  fi
}

boot_once() {  # $1 setup, $2 run
  local setup=$1 run=$2 rc=0 l
  RUN_DIR=$WORK/runs/$setup-$run
  mkdir -p "$RUN_DIR"
  start_setup "$setup"
  l=$(load)
  TX0=$(tap_tx)
  # The same machine in every setup: as scripts/netboot-vm.sh, plus SeaBIOS's
  # serial console so that iPXE's DHCP and downloads show on COM1.
  ip netns exec "$NS" python3 "$HERE/console_stamp.py" --until 'login: *$' --timeout "$TIMEOUT" "$RUN_DIR/console.log" -- \
    qemu-system-x86_64 -accel tcg,thread=multi -cpu max -smp 1 -m "$MEMORY" \
    -nodefaults -display none -serial stdio -monitor none \
    -fw_cfg "name=etc/sercon-port,file=$WORK/sercon-port" \
    -netdev "tap,id=n0,ifname=tap0,script=no,downscript=no" \
    -device "virtio-net-pci,netdev=n0,mac=$MAC" -boot n 2> "$RUN_DIR/qemu.err" &
  local qpid=$!
  PIDS+=("$qpid")
  wait "$qpid" || rc=$?
  local extra
  mapfile -t extra < <(collect "$setup")
  stop_pids
  python3 "$HERE/boot_phases.py" parse "$RUN_DIR/console.log" "$setup" "$run" "load=$l" "${extra[@]}" \
    >> "$WORK/results.jsonl"
  echo "boot-bench: $setup run $run: $(tail -n 1 "$WORK/results.jsonl" |
    python3 -c 'import json,sys; r=json.load(sys.stdin); print(("login after %.1f s" % r["marks"]["login"]) if r["complete"] else "NO LOGIN PROMPT")') (load $l, rc $rc)" >&2
}

# ---- run -------------------------------------------------------------------
for i in $(seq $((QUIET_WAIT / 5))); do
  awk -v l="$(load)" -v q="$QUIET_LOAD" 'BEGIN { exit !(l < q) }' && break
  [ "$i" = 1 ] && echo "boot-bench: waiting up to ${QUIET_WAIT}s for the load ($(load)) to drop under $QUIET_LOAD" >&2
  sleep 5
done
echo "boot-bench: release $RELEASE; setups: $SETUPS; $RUNS boot(s) each; load $(load)" >&2
for run in $(seq "$RUNS"); do
  for setup in $SETUPS; do boot_once "$setup" "$run"; done
done
{
  echo "Release $RELEASE ($(stat -c %s "$REL/root.squashfs") bytes of root.squashfs), $RUNS boot(s) per setup," \
    "QEMU TCG -smp 1 -m $MEMORY, RA=$RA, $(nproc) host cores."
  echo
  python3 "$HERE/boot_phases.py" table "$WORK/results.jsonl"
} | tee "$WORK/table.md"
if [ -n "${OUT:-}" ]; then
  mkdir -p "$OUT"
  cp "$WORK/results.jsonl" "$WORK/table.md" "$OUT/"
  for d in "$WORK"/runs/*; do cp "$d/console.log" "$OUT/console-$(basename "$d").log"; done
fi

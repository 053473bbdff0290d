# Shared by bench/tftp_bench.sh and bench/dhcp_bench.sh (sourced, not run;
# not *.sh so that `./run bench` does not run it): two network namespaces
# joined by a veth pair, removed on exit with everything started in them, a
# wait for a quiet machine, and a signed release built with pibuild.
#
# netns_pair_up NAME OCTET sets, for 10.OCTET.0.0/24:
#   SNS CNS   server and client namespaces (names carry $$)
#   SIF CIF   the veth ends; SIP CIP their addresses (.1 and .2)
#   WORK      a temporary directory (kept with KEEP_WORK=1)
#   PIDS      add the PID of every process started; they are killed on exit

BENCH_NAME=bench
PIDS=()
netns_cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  [ -z "${CNS:-}" ] || ip netns del "$CNS" 2>/dev/null || true
  [ -z "${SNS:-}" ] || ip netns del "$SNS" 2>/dev/null || true
  [ -z "${WORK:-}" ] || [ "${KEEP_WORK:-}" = 1 ] || rm -rf "$WORK"
}

netns_pair_up() {
  BENCH_NAME=$1
  local net=10.$2.0
  [ "$(id -u)" = 0 ] || { echo "$BENCH_NAME: run as root (namespaces)" >&2; exit 2; }
  SNS=pib-$1-s-$$ CNS=pib-$1-c-$$ SIF=vs$2-$$ CIF=vc$2-$$
  SIP=$net.1 CIP=$net.2
  WORK=$(mktemp -d "/tmp/$1.XXXXXX")
  trap netns_cleanup EXIT
  ip netns add "$SNS"
  ip netns add "$CNS"
  ip -n "$SNS" link set lo up
  ip -n "$CNS" link set lo up
  ip -n "$SNS" link add "$SIF" type veth peer name "$CIF" netns "$CNS"
  ip -n "$SNS" addr add "$SIP/24" dev "$SIF"
  ip -n "$CNS" addr add "$CIP/24" dev "$CIF"
  ip -n "$SNS" link set "$SIF" up
  ip -n "$CNS" link set "$CIF" up
}

# The 1-minute load average.
load() { cut -d' ' -f1 /proc/loadavg; }

# Waits up to 5 minutes for the load to drop under QUIET_LOAD (default 1.5).
wait_quiet() {
  local i
  for i in $(seq 60); do
    awk -v l="$(load)" -v q="${QUIET_LOAD:-1.5}" 'BEGIN { exit !(l < q) }' && return 0
    sleep 5
  done
  echo "$BENCH_NAME: load still $(load) after 5 min; going on" >&2
}

# Waits up to 10 s for something to listen on UDP port $1 in the server namespace.
wait_udp_port() {
  local i
  for i in $(seq 100); do
    ip netns exec "$SNS" ss -uln 2>/dev/null | grep -q ":$1 " && return 0
    sleep 0.1
  done
  echo "$BENCH_NAME: nothing listens on UDP port $1" >&2
  return 1
}

# make_release NAME KERNEL_BYTES INITRD_BYTES: a signed release of a pc recipe
# over a directory root holding only random /boot/vmlinuz-6.1.0-x and
# /boot/initrd.img-6.1.0-x, built by $PIBUILD into $WORK/store/releases with a
# new key $WORK/key.{key,pub}. Sets REL (the release id) and BOOT (its boot/).
make_release() {
  mkdir -p "$WORK/src/rootfs/boot" "$WORK/store/releases"
  head -c "$2" /dev/urandom >"$WORK/src/rootfs/boot/vmlinuz-6.1.0-x"
  head -c "$3" /dev/urandom >"$WORK/src/rootfs/boot/initrd.img-6.1.0-x"
  printf '%s\n' "name: $1" 'version: "1"' 'arch: amd64' 'board: pc' \
    'source_date_epoch: 1700000000' 'base: {directory: ./rootfs}' \
    'boot: {kernel: /boot/vmlinuz-*, initramfs: /boot/initrd.img-*}' 'output: {level: 1}' \
    >"$WORK/src/recipe.yaml"
  "$PIBUILD" keygen -o "$WORK/key" >/dev/null
  "$PIBUILD" build "$WORK/src/recipe.yaml" -o "$WORK/store/releases" --key "$WORK/key.key" \
    >"$WORK/pibuild.log" 2>&1 || { cat "$WORK/pibuild.log" >&2; return 1; }
  REL=$(ls "$WORK/store/releases" | grep "^$1-" | head -n 1)
  BOOT=$WORK/store/releases/$REL/boot
}

# netbootd_config FILE: a proxy-mode config on the server end that serves
# $REL's boot files to unknown clients, as root, logging warnings only.
# $1 TFTP port, $2 HTTP port.
netbootd_config() {
  cat <<EOF
store: $WORK/store
public-key: $WORK/key.pub
listen:
  interface: $SIF
  address: $SIP
  tftp-port: $1
  http-port: $2
dhcp: {mode: proxy}
tftp:
  root-fallback: {default-release: $REL}
user: root
group: root
log-level: warning
EOF
}

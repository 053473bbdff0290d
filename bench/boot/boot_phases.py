#!/usr/bin/env python3
"""Boot phases from a stamped serial console (console_stamp.py), and their summary.

    boot_phases.py parse LOG SETUP RUN [KEY=VALUE ...]   one JSON line on stdout
    boot_phases.py table RESULTS.jsonl                    markdown tables on stdout

Marks on the console, each the arrival time of its line (seconds since QEMU started):
  nic      iPXE's "net0: ... (open)": SeaBIOS, iPXE's start and its Ctrl-B prompt are over
  dhcp     iPXE's "Configuring (net0 ...) ... ok": the firmware has its address
  fetched  iPXE's last download ("http://.../initrd.img... ok") before the kernel
  kernel   the kernel started: min over printk lines of (arrival - printk time),
           so the iPXE downloads and the kernel's decompression come before it
  init     "Run /init as init process": the initramfs starts
  net      the initramfs starts DHCP (pib-init "dhcp on eth0: waiting for a
           lease", the script's "dhcp"): its modules are loaded, the link is there
  address  it has its address and starts fetching (pib-init "dhcp: bound", the
           script's "fetching")
  root     the root image is fetched and verified (pib-init "verified
           root.squashfs ...", or over NFS "verified ... through dm-verity";
           the script initramfs says "root fetched (not verified)")
  switch   "switching root to": the initramfs hands over
  login    getty's "login:" prompt
KEY=VALUE pairs (bytes counters, load average, pib-init's own report) are
copied into the JSON; numbers stay numbers.
"""
import json
import os
import re
import statistics
import sys

MARKS = [
    ("nic", re.compile(r"^net0: .* \(open\)")),
    ("dhcp", re.compile(r"^Configuring \(net0 .*\bok\s*$")),
    ("init", re.compile(r"Run /init as init process")),
    ("net", re.compile(r"^(pib-init: dhcp on \S+: waiting|bench-init: dhcp)")),
    ("address", re.compile(r"^(pib-init: dhcp: bound|bench-init: fetching)")),
    ("root", re.compile(r"^(pib-init: verified \S*root\.squashfs |pib-init: verified .* through dm-verity|"
                        r"bench-init: root fetched)")),
    ("switch", re.compile(r"^(pib-init|bench-init): switching root to")),
    ("login", re.compile(r"login: *$")),
]
PRINTK = re.compile(r"\[\s*(\d+\.\d+)\] ")
FETCHED = re.compile(r"^(http|https|tftp)://\S+\.\.\. ok\s*$")

# (column, from mark, to mark): the phases the tables show.
PHASES = [
    ("firmware start (SeaBIOS, iPXE, Ctrl-B prompt)", None, "nic"),
    ("firmware DHCP (iPXE)", "nic", "dhcp"),
    ("iPXE: script, kernel, initramfs download", "dhcp", "fetched"),
    ("kernel setup + decompression", "fetched", "kernel"),
    ("kernel init", "kernel", "init"),
    ("initramfs: modules, link", "init", "net"),
    ("initramfs: DHCP", "net", "address"),
    ("initramfs: root fetched + verified", "address", "root"),
    ("initramfs: mounts, switch_root", "root", "switch"),
    ("userspace to login", "switch", "login"),
    ("total", None, "login"),
]

COUNTERS = {
    "bytes_all_frames_to_node": "every frame to the node (tap tx, Ethernet bytes)",
    "bytes_http_netbootd": "HTTP payload, netbootd /metrics",
    "bytes_tftp_netbootd": "TFTP payload, netbootd /metrics",
    "bytes_http_nginx": "HTTP, nginx access log ($bytes_sent)",
    "bytes_tftp_dnsmasq": "TFTP payload, dnsmasq log (file sizes)",
    "bytes_nfs_ganesha": "NFS, ganesha's TCP sockets (ss bytes_sent)",
}


def parse(log: str) -> dict:
    marks = {}
    kernel = None
    if not os.path.exists(log):
        return marks
    with open(log, encoding="utf-8", errors="replace") as f:
        for line in f:
            stamp, _, text = line.rstrip("\n").partition(" ")
            try:
                t = float(stamp)
            except ValueError:
                continue
            if kernel is None and FETCHED.match(text):
                marks["fetched"] = t
            m = PRINTK.search(text)
            if m:
                start = t - float(m.group(1))
                kernel = start if kernel is None else min(kernel, start)
            for name, rx in MARKS:
                if name not in marks and rx.search(text):
                    marks[name] = t
    if kernel is not None:
        # The printk clock is the guest's; never let it put the kernel before DHCP.
        marks["kernel"] = max(kernel, marks.get("dhcp", 0.0))
    return marks


def phases(marks: dict) -> dict:
    out = {}
    for col, a, b in PHASES:
        if b in marks and (a is None or a in marks):
            out[col] = round(marks[b] - (marks[a] if a else 0.0), 3)
    return out


def value(text: str):
    try:
        return json.loads(text)
    except ValueError:
        return text


def cmd_parse(argv: list) -> int:
    log, setup, run, *extra = argv
    marks = parse(log)
    row = {"setup": setup, "run": int(run), "marks": marks, "phases": phases(marks),
           "complete": "login" in marks}
    for kv in extra:
        k, _, v = kv.partition("=")
        row[k] = value(v)
    print(json.dumps(row, sort_keys=True))
    return 0


def spread(values: list, fmt: str) -> str:
    if not values:
        return "–"
    med = statistics.median(values)
    if len(values) == 1:
        return fmt.format(med)
    return (fmt + " ({}–{})").format(med, fmt.format(min(values)), fmt.format(max(values)))


def cmd_table(argv: list) -> int:
    rows = [json.loads(line) for line in open(argv[0], encoding="utf-8") if line.strip()]
    setups = list(dict.fromkeys(r["setup"] for r in rows))
    done = {s: [r for r in rows if r["setup"] == s and r["complete"]] for s in setups}
    failed = {s: len([r for r in rows if r["setup"] == s and not r["complete"]]) for s in setups}
    print("Seconds from QEMU start; median (min–max) of the boots that reached the login prompt.\n")
    print("| phase | " + " | ".join(f"{s} (n={len(done[s])})" for s in setups) + " |")
    print("|---|" + "---:|" * len(setups))
    for col, _, _ in PHASES:
        cells = [spread([r["phases"][col] for r in done[s] if col in r["phases"]], "{:.1f}") for s in setups]
        name = f"**{col}**" if col == "total" else col
        print(f"| {name} | " + " | ".join(cells) + " |")
    if any(failed.values()):
        print("\nBoots that did not reach the login prompt: " +
              ", ".join(f"{s} {n}" for s, n in failed.items() if n))

    counters = sorted({k for r in rows for k in r if k.startswith("bytes_")})
    if counters:
        print("\nBytes sent to the node per boot, median (min–max):\n")
        print("| counter | " + " | ".join(setups) + " |")
        print("|---|" + "---:|" * len(setups))
        for k in counters:
            cells = []
            for s in setups:
                vals = [r[k] for r in done[s] if isinstance(r.get(k), (int, float))]
                cells.append(spread(vals, "{:,.0f}"))
            print(f"| {COUNTERS.get(k, k)} | " + " | ".join(cells) + " |")

    reports = {s: [r["pib_phases"] for r in done[s] if isinstance(r.get("pib_phases"), dict)] for s in setups}
    names = list(dict.fromkeys(n for s in setups for rep in reports[s] for n in rep))
    if names:
        print("\npib-init's own timings (its boot report, as netbootd logs it: `api report ... *_ms=`),"
              " ms, median (min–max):\n")
        shown = [s for s in setups if reports[s]]
        print("| pib-init phase | " + " | ".join(shown) + " |")
        print("|---|" + "---:|" * len(shown))
        for n in names:
            cells = [spread([rep[n] for rep in reports[s] if n in rep], "{:.0f}") for s in shown]
            print(f"| {n} | " + " | ".join(cells) + " |")

    loads = [r["load"] for r in rows if isinstance(r.get("load"), (int, float))]
    if loads:
        print(f"\n1-minute load average at the start of each boot: {min(loads):.2f}–{max(loads):.2f}"
              f" (median {statistics.median(loads):.2f}).")
    return 0


def main() -> int:
    if len(sys.argv) >= 5 and sys.argv[1] == "parse":
        return cmd_parse(sys.argv[2:])
    if len(sys.argv) == 3 and sys.argv[1] == "table":
        return cmd_table(sys.argv[2:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())

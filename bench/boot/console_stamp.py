#!/usr/bin/env python3
"""Runs a command (QEMU with -serial stdio) and stamps each console line as it arrives.

    console_stamp.py --until REGEX [--timeout S] LOG -- CMD [ARG...]

LOG gets one line per console line: seconds since CMD was started (monotonic
clock, 3 decimals), a space, the line (CR and ANSI escapes removed, backspace
erases). A line is stamped when its newline arrives; a prompt without a newline
(getty's "login: ") is matched as soon as its bytes arrive and stamped then.
Exits 0 once a line matches REGEX (the command is terminated), 1 when the
timeout passes first, 2 when the command exits first. SIGTERM/SIGINT terminate
the command too, so the caller only ever needs this process's PID.
"""
import argparse
import os
import re
import select
import signal
import subprocess
import sys
import time

CSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Za-z0-9]|\x1b[A-Za-z]")


def clean(raw: bytes) -> str:
    raw = CSI.sub(b"", raw).replace(b"\r", b"")
    out = bytearray()
    for b in raw:
        if b == 8:  # backspace: iPXE's "Press Ctrl-B" countdown
            if out:
                out.pop()
        elif b >= 32 or b == 9:
            out.append(b)
    return out.decode("utf-8", "replace")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("log")
    ap.add_argument("--until", required=True)
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd
    if not cmd:
        ap.error("no command after --")
    until = re.compile(a.until)

    t0 = time.monotonic()
    child = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)

    def stop(*_):
        child.terminate()
        try:
            child.wait(10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()

    def on_signal(signum, _frame):
        stop()
        sys.exit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    fd = child.stdout.fileno()
    pending = b""
    with open(a.log, "w", encoding="utf-8") as log:
        while True:
            left = a.timeout - (time.monotonic() - t0)
            if left <= 0:
                stop()
                log.write(f"{time.monotonic() - t0:.3f} console_stamp: timed out\n")
                return 1
            ready, _, _ = select.select([fd], [], [], min(left, 1.0))
            if not ready:
                continue
            chunk = os.read(fd, 65536)
            now = time.monotonic() - t0
            if not chunk:
                log.write(f"{now:.3f} console_stamp: command exited ({child.wait()})\n")
                return 2
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for raw in lines:
                text = clean(raw)
                log.write(f"{now:.3f} {text}\n")
                if until.search(text):
                    log.flush()
                    stop()
                    return 0
            partial = clean(pending)
            if partial and until.search(partial):
                log.write(f"{now:.3f} {partial}\n")
                log.flush()
                stop()
                return 0
            log.flush()


if __name__ == "__main__":
    sys.exit(main())

"""The control socket cannot be held shut, and stuck clients do not stay.
sipd.8: at most 64 connections, 16 per user other than root; the last 8
are root's, so the other users together hold at most 56; a client that
leaves a reply unread, or a frame unfinished, for 10 s is dropped.

- Five allowed users (uids 65530-65534) each open 16 idle connections:
  56 get the greeting, the other 24 a "busy" error.  Root still gets in
  (sipctl status exits 0 and counts 57 connections).
- A client that sends 2,000 "show settings" and reads nothing (its
  replies, about 2.5 MB, stay under the 4 MB output bound) is dropped
  within 10 s of the last request, plus 3 s of slack: its socket ends
  and sipd logs it.
- A client that drips a frame one byte every 0.5 s is dropped within
  10 s of the first byte, plus 3 s: the deadline is the frame's, not
  each byte's.

Needs root and setpriv (exit 77 otherwise).
"""

import json
import os
import shutil
import socket
import struct
import subprocess
import time

import msgpack

import sipdtest
from sipdtest import Sipd, Skip, check, sipctl

UIDS = range(65530, 65535)
PER_UID = 16
OTHERS_MAX = 56          # CTL_MAX_CONNS - CTL_ROOT_CONNS
STUCK_S = 10             # CTL_STUCK_S, sipd.8
SLACK_S = 3

# Opens N connections to the socket, reads the first frame of each and
# prints "hello H busy B", then holds them until its stdin closes.
HOLDER = r"""
import socket, struct, sys
path, n = sys.argv[1], int(sys.argv[2])
held, hello, busy = [], 0, 0
for _ in range(n):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(path)
    hdr = s.recv(4, socket.MSG_WAITALL)
    body = s.recv(struct.unpack(">I", hdr)[0], socket.MSG_WAITALL) \
        if len(hdr) == 4 else b""
    if b"hello" in body:
        hello += 1
    elif b"busy" in body:
        busy += 1
    held.append(s)
print("hello %d busy %d" % (hello, busy), flush=True)
sys.stdin.read()
"""


def connect(sipd):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(sipd.sock_path)
    hdr = s.recv(4, socket.MSG_WAITALL)
    body = s.recv(struct.unpack(">I", hdr)[0], socket.MSG_WAITALL)
    check(b"hello" in body, "no greeting: %r" % body)
    return s


def connections(sipd):
    p = sipctl(sipd, "-j", "status")
    check(p.returncode == 0, "root refused: %d %r" % (p.returncode,
                                                     p.stderr))
    return json.loads(p.stdout)["data"]["connections"]


def wait_dropped(sipd, limit):
    """Seconds until sipd counts only the asking connection, or None
    after limit seconds (a look every 0.25 s)."""
    start = time.monotonic()
    for _ in range(int(limit / 0.25) + 1):
        if connections(sipd) == 1:
            return time.monotonic() - start
        if time.monotonic() - start > limit:
            break
        time.sleep(0.25)
    return None


def ends(s):
    """Whether s ends (read to its end within 5 s, at most 64 MB)."""
    s.settimeout(5)
    try:
        for _ in range(64):
            if not s.recv(1 << 20):
                return True
    except OSError:
        return True
    return False


def hold_everything(sipd):
    holders, counts = [], []
    try:
        for uid in UIDS:
            h = subprocess.Popen(
                ["setpriv", "--reuid=%d" % uid, "--regid=%d" % uid,
                 "--clear-groups", "/usr/bin/python3", "-c", HOLDER,
                 sipd.sock_path, str(PER_UID)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, text=True)
            holders.append(h)
            line = h.stdout.readline().split()
            check(len(line) == 4, "holder %d: %r %r" % (
                uid, line, h.stderr.read() if h.poll() is not None else ""))
            counts.append((int(line[1]), int(line[3])))
        hello = sum(c[0] for c in counts)
        busy = sum(c[1] for c in counts)
        check(hello == OTHERS_MAX and busy == len(UIDS) * PER_UID - hello,
              "the other users hold %d, refused %d (%r)" % (hello, busy,
                                                            counts))
        n = connections(sipd)
        check(n == OTHERS_MAX + 1, "root sees %d connections" % n)
    finally:
        for h in holders:
            h.stdin.close()
            h.wait(timeout=10)


def test(binary, started):
    if os.geteuid() != 0:
        raise Skip("not root")
    if shutil.which("setpriv") is None:
        raise Skip("no setpriv")
    sipd = Sipd(binary, conf="".join("control allow %d\n" % u
                                     for u in UIDS))
    started.append(sipd)
    os.chmod(sipd.dir.name, 0o755)
    sipd.start()
    # opened by hand: the mode setting may not exist
    os.chmod(sipd.sock_path, 0o666)

    hold_everything(sipd)
    for _ in range(50):
        if connections(sipd) == 1:
            break
        time.sleep(0.1)
    check(connections(sipd) == 1, "the held connections stay")

    # a client that never reads its replies
    s = connect(sipd)
    reqs = b"".join(struct.pack(">I", len(b)) + b for b in
                    [msgpack.packb({"id": i + 1, "cmd": "show settings"})
                     for i in range(2000)])
    s.sendall(reqs)
    t = wait_dropped(sipd, STUCK_S + SLACK_S)
    check(t is not None, "a client that reads nothing stays after %d s" %
          (STUCK_S + SLACK_S))
    check(ends(s), "its socket does not end")
    s.close()
    check(sipd.wait_log("(not reading", 2), "no log line for it")

    # a frame dripped a byte at a time
    s = connect(sipd)
    frame = msgpack.packb({"id": 1, "cmd": "status"})
    frame = struct.pack(">I", len(frame) + 40) + frame
    start = time.monotonic()
    ended = None
    s.settimeout(0.5)
    for i in range(int((STUCK_S + SLACK_S) / 0.5)):
        try:
            s.send(frame[i % len(frame):i % len(frame) + 1])
            if not s.recv(4096):
                ended = time.monotonic() - start
                break
        except socket.timeout:
            continue
        except OSError:
            ended = time.monotonic() - start
            break
    s.close()
    check(ended is not None, "a dripped frame is still open after %d s" %
          (STUCK_S + SLACK_S))
    check(ended >= STUCK_S - 1, "dropped after %.1f s, before its time" %
          ended)
    check(sipd.wait_log("(a frame unfinished", 2), "no log line for it")
    check(connections(sipd) == 1, "still counted")
    sipdtest.stop_clean(sipd)


sipdtest.run(test)

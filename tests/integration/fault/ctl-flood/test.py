"""The control socket flooded by a local client (sipd-control.7, sipd.8
"Control").  The socket is open to an allowed user (nobody, uid 65534:
control socket-mode 0666, control allow).  As that user, a flooder opens
connections until sipd refuses more, and on each pipelines "status"
requests as fast as it can without reading a reply.  For the three
seconds the flood lasts, root's "sipctl status" is answered each time
(within 2 s, its own start included) and calls over UDP complete; the
flooder holds no more than the per-user cap of connections (16).
Afterwards sipd answers as before."""

import json
import os
import socket
import struct
import time

import faultlib
import sipdtest
import sipua
from sipdtest import check

NOBODY = 65534
FLOOD_S = 3.0


def frame(req_id):
    # msgpack {"id": N, "cmd": "status"} (fixmap 2, fixstr, uint32)
    body = (b"\x82\xa2id\xce" + struct.pack(">I", req_id) +
            b"\xa3cmd\xa6status")
    return struct.pack(">I", len(body)) + body


def flood(path, seconds):
    """As uid NOBODY in a child: connections until refused, each fed
    requests and never read.  Exits 0; its counts on stdout."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        code = 1
        try:
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            conns, refused, sent = [], 0, 0
            for _ in range(64):
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    s.connect(path)
                    s.setblocking(False)
                    conns.append(s)
                except OSError:
                    refused += 1
                    s.close()
            data = b"".join(frame(i + 1) for i in range(256))
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline and conns:
                for s in list(conns):
                    try:
                        s.send(data)
                        sent += 256
                    except BlockingIOError:
                        pass
                    except OSError:
                        conns.remove(s)
                        s.close()
            os.write(w, ("%d %d %d" % (len(conns), refused, sent)).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(w)
    return pid, r


def test(binary, started):
    sipdtest.sipctl_binary()
    sipd = sipua.start_proxy(
        binary, started,
        conf=lambda s: "set force-rr on\ncontrol socket-mode 0666\n"
        "control allow %d" % NOBODY)
    os.chmod(os.path.dirname(sipd.sock_path), 0o711)
    pid, r = flood(sipd.sock_path, FLOOD_S)
    t_end = time.monotonic() + FLOOD_S
    asked = calls = most = 0
    worst = 0.0
    uac, uas = sipua.UA(), sipua.UA()
    try:
        for _ in range(100):
            if time.monotonic() >= t_end:
                break
            t0 = time.monotonic()
            p = sipdtest.sipctl(sipd, "-j", "status", timeout=5)
            took = time.monotonic() - t0
            if p.returncode == 0:
                most = max(most, json.loads(p.stdout)["data"].get(
                    "connections", 0))
            worst = max(worst, took)
            check(p.returncode == 0, "root's sipctl status during the "
                  "flood: exit %d %r" % (p.returncode, p.stderr))
            asked += 1
            faultlib.call(sipd, uac, uas)
            calls += 1
    finally:
        uac.close()
        uas.close()
    _, status = os.waitpid(pid, 0)
    out = os.read(r, 200).decode()
    os.close(r)
    check(os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0,
          "the flooder failed")
    held, refused, sent = (int(x) for x in out.split())
    print("flood: %d requests sent unread, %d connects failed, %d "
          "connections still held at the end (sipd counted %d at most); "
          "root: %d status answered (slowest %.2f s), %d calls completed"
          % (sent, refused, held, most, asked, worst, calls))
    check(held <= 16, "the flooder held %d connections" % held)
    check(most <= 16 + 1, "sipd counted %d control connections" % most)
    check(asked >= 2 and calls >= 2, "too few answers during the flood")
    check(worst < 2.0, "root's sipctl waited %.2f s" % worst)
    p = sipdtest.sipctl(sipd, "status")
    check(p.returncode == 0, "sipctl after the flood: %r" % p.stderr)
    faultlib.call(sipd)
    check(sipd.alive(), "sipd died")
    sipdtest.stop_clean(sipd)


sipdtest.run(test)

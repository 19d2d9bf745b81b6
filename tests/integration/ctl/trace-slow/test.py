"""A trace reader that stops reading loses messages, with their count,
and never slows sipd.  "sipctl -j trace" runs with its output never read
(a full pipe: sipctl blocks, then the control socket fills) while 1500
OPTIONS of about 2 kB each go to sipd: every one is answered 200, and
"sipctl status" answers meanwhile.  Then the output is read: a "dropped"
event comes with a count, and the messages seen plus the messages
dropped are exactly all the messages of the run (two per OPTIONS).  A
sipd that waited for the reader would leave OPTIONS unanswered; one that
dropped silently would miss the count."""

import json
import select
import signal
import subprocess
import time

import sipdtest
from sipdtest import Peer, Sipd, check, request, sipctl

FLOOD = 1500
PAD = "x" * 2000


def options(peer, sipd, n):
    """n OPTIONS, one at a time; the number answered 200."""
    ok = 0
    for _ in range(n):
        r = peer.ask(request("OPTIONS", sipd.port,
                             extra=[("X-Pad", PAD)]), sipd.port,
                     timeout=2.0)
        if r is not None and r.status == 200:
            ok += 1
    return ok


def test(binary, started):
    sipd = Sipd(binary)
    started.append(sipd)
    sipd.start()
    proc = subprocess.Popen([sipdtest.sipctl_binary(), "-s", sipd.sock_path,
                             "-j", "trace", "method", "OPTIONS"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL)
    peer = Peer()
    try:
        for _ in range(50):
            p = sipctl(sipd, "-j", "status")
            if json.loads(p.stdout)["data"].get("tracers") == 1:
                break
            time.sleep(0.1)
        else:
            raise sipdtest.Fail("the trace did not start")
        t0 = time.monotonic()
        answered = options(peer, sipd, FLOOD)
        took = time.monotonic() - t0
        check(answered == FLOOD, "%d of %d OPTIONS answered while the "
              "reader is stuck" % (answered, FLOOD))
        p = sipctl(sipd, "status", timeout=5)
        check(p.returncode == 0, "status while the reader is stuck")
        check(took < 8.0, "the flood took %.1f s" % took)

        # now read: more OPTIONS until the drop count comes (bounded)
        sent = FLOOD
        seen, dropped, buf = 0, 0, b""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and dropped == 0:
            sent += options(peer, sipd, 1)
            while True:
                r, _, _ = select.select([proc.stdout], [], [], 0.05)
                if not r:
                    break
                chunk = proc.stdout.read1(1 << 16)
                if not chunk:
                    break
                buf += chunk
            *lines, buf = buf.split(b"\n")
            for line in lines:
                ev = json.loads(line)
                if ev.get("ev") == "msg":
                    seen += 1
                elif ev.get("ev") == "dropped":
                    dropped += ev["data"]["messages"]
        check(dropped > 0, "no dropped event (seen %d, flood %.1f s, sipctl %r)" % (seen, took, proc.poll()))
        # one last exchange, which comes after the count
        sent += options(peer, sipd, 1)
        end = time.monotonic() + 5
        while time.monotonic() < end and seen + dropped < 2 * sent:
            r, _, _ = select.select([proc.stdout], [], [], 0.1)
            if r:
                buf += proc.stdout.read1(1 << 16)
            *lines, buf = buf.split(b"\n")
            for line in lines:
                ev = json.loads(line)
                if ev.get("ev") == "msg":
                    seen += 1
                elif ev.get("ev") == "dropped":
                    dropped += ev["data"]["messages"]
        check(seen + dropped == 2 * sent, "seen %d + dropped %d, sent %d "
              "OPTIONS" % (seen, dropped, sent))
        print("seen %d, dropped %d of %d messages" % (seen, dropped,
                                                      2 * sent))
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=5)
    finally:
        peer.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    sipdtest.stop_clean(sipd)


sipdtest.run(test)

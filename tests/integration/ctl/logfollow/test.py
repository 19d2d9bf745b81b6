"""log follow streams live log lines: after "log level transport all"
through sipctl, an OPTIONS shows as SIPDATA lines in a running
"sipctl log follow" (and as {id, ev: "log"} events with -j); Ctrl-C
(SIGINT) ends the stream and sipctl exits 0."""

import json
import os
import select
import signal
import subprocess
import time

import sipdtest
from sipdtest import Peer, Sipd, check, request, sipctl


def read_until(proc, text, timeout=5.0):
    """Lines of proc's stdout until one holds text (bounded)."""
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        r, _, _ = select.select([proc.stdout], [], [], 0.2)
        if not r:
            continue
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        if text in line:
            return seen, True
    return seen, False


def follow(sipd, *opts):
    return subprocess.Popen([sipdtest.sipctl_binary(), "-s", sipd.sock_path]
                            + list(opts) + ["log", "follow"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, text=True)


def test(binary, started):
    sipd = Sipd(binary)
    started.append(sipd)
    sipd.start()
    p = sipctl(sipd, "log", "level", "transport", "all")
    check(p.returncode == 0, "log level: %r" % p.stderr)

    for opts in ((), ("-j",)):
        proc = follow(sipd, *opts)
        try:
            peer = Peer()
            try:
                # bounded: a few tries while the stream starts
                ok = False
                for _ in range(10):
                    peer.ask(request("OPTIONS", sipd.port), sipd.port,
                             timeout=0.5)
                    lines, ok = read_until(proc, "SIPDATA", 1.0)
                    if ok:
                        break
                check(ok, "no SIPDATA line in log follow %r" % (opts,))
                if opts:
                    ev = json.loads(lines[-1])
                    check(ev["ev"] == "log" and "SIPDATA" in
                          ev["data"]["line"], "event %r" % ev)
            finally:
                peer.close()
            proc.send_signal(signal.SIGINT)
            rc = proc.wait(timeout=5)
            check(rc == 0, "log follow after SIGINT: exit %d %r" %
                  (rc, proc.stderr.read()))
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    p = sipctl(sipd, "-j", "status")
    check(json.loads(p.stdout)["data"]["followers"] == 0,
          "a follower left behind")
    sipdtest.stop_clean(sipd)


sipdtest.run(test)

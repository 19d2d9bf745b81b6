"""Bindings survive a restart, even a kill -9 (RFC 3261 10.3 step 7: a
binding answered 200 is on disk).

50 bindings (5 users, 10 contacts each, one REGISTER each, Digest
computed here) and 3 with Expires 2; then, while four threads keep
registering new contacts (four users, so that their changes wait for the
store together and share commits; sipd runs two workers), sipd is killed
with SIGKILL and started again on the same reg-store: "show
registrations" lists every binding that was answered 200, the loops'
included, and not the ones whose 2 s are over.
"""

import os
import signal
import threading
import time

import sipdtest
import sipreg
from sipdtest import Fail, check
from sipua import UA

USERS = ["u%d" % i for i in range(5)]
LOOPS = ["loop%d" % i for i in range(4)]
CONF = "domain add example.com\n" + "".join(
    "account add %s@example.com password pw-%s\n" % (u, u)
    for u in USERS + LOOPS + ["short"]) + """set reg-max-bindings 200
set reg-min-expires 1
"""


def contact(ua, user, k):
    return "sip:%s-%d@127.0.0.1:%d" % (user, k, ua.port)


class Loop(threading.Thread):
    """Registers loop-N contacts one after the other until stopped or
    sipd is killed; self.acked: those answered 200.  A REGISTER left
    unanswered counts as the kill only once the kill is under way
    (self.killed); before it, it is an error: sipd must answer each."""

    def __init__(self, sipd, user):
        super().__init__(daemon=True)
        self.user = user
        self.ua = UA()
        self.reg = sipreg.RegClient(self.ua, sipd.port, user, "pw-" + user)
        self.acked = []
        self.stopping = False
        self.killed = threading.Event()
        self.error = None

    def run(self):
        try:
            for k in range(2000):
                if self.stopping:
                    break
                c = contact(self.ua, self.user, k)
                try:
                    r = self.reg.register(["<%s>" % c], 300, timeout=1.0)
                except Fail as e:
                    if not self.killed.is_set():
                        self.error = ("%s REGISTER %d unanswered while "
                                      "sipd runs: %s" % (self.user, k, e))
                    break  # else sipd is gone
                if r.status == 200:
                    self.acked.append(c)
                else:
                    self.error = "%s REGISTER %d: %d" % (self.user, k,
                                                         r.status)
                    break
        finally:
            self.ua.close()


def test(binary, started):
    os.environ.setdefault("SIPD_TEST_PROCESSORS", "2")  # read by sipua
    sipd = sipreg.start(binary, started, conf=CONF)
    ua = UA()
    want = []
    try:
        for u in USERS:
            reg = sipreg.RegClient(ua, sipd.port, u, "pw-" + u)
            for k in range(10):
                c = contact(ua, u, k)
                r = reg.register(["<%s>" % c], 600)
                check(r.status == 200, "REGISTER %s: %d" % (c, r.status))
                want.append(c)
        short = sipreg.RegClient(ua, sipd.port, "short", "pw-short")
        for k in range(3):
            r = short.register(["<%s>" % contact(ua, "short", k)], 2)
            check(r.status == 200, "REGISTER Expires 2: %d" % r.status)
        t_short = time.monotonic()
    finally:
        ua.close()
    rows = sipreg.registrations(sipd)
    check(len(rows) == 53, "%d bindings listed, not 53" % len(rows))

    loops = [Loop(sipd, u) for u in LOOPS]
    for loop in loops:
        loop.start()
    sipreg.wait_for("the loops' first 200s",
                    lambda: all(len(lp.acked) >= 5 for lp in loops),
                    10.0, 0.02)
    for loop in loops:
        loop.killed.set()
    os.kill(sipd.proc.pid, signal.SIGKILL)
    sipd.proc.wait(timeout=5)
    sipd.proc = None
    for loop in loops:
        loop.stopping = True
    for loop in loops:
        loop.join(10)
        check(not loop.is_alive(), "the REGISTER loop did not end")
        check(loop.error is None, loop.error or "")
        want += loop.acked

    left = 2.5 - (time.monotonic() - t_short)
    if left > 0:
        time.sleep(left)
    sipd.start()
    rows = sipreg.registrations(sipd)
    got = {r["contact"] for r in rows}
    missing = [c for c in want if c not in got]
    check(not missing, "%d of the %d bindings answered 200 are gone after "
          "kill -9 and restart: %s" % (len(missing), len(want),
                                       missing[:10]))
    shorts = [r for r in rows if r["aor"] == "short@example.com"]
    check(not shorts, "bindings with Expires 2 listed after 2.5 s: %s" %
          shorts)
    print("%d bindings kept (%d registered by the loops before the kill)" % (
        len(want), sum(len(lp.acked) for lp in loops)))
    check(sipd.alive(), "sipd died")
    sipdtest.stop_clean(sipd)


sipdtest.run(test)

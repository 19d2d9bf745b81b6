"""A graceful stop on the wire (sipd.8, "Signals").

sipd with force-rr on and "set stop-grace 3"; Python user agents over
UDP.  Call A is answered before the stop (a dialog, no transaction);
call B rings.  SIGTERM:
  - a new INVITE and a REGISTER get 503 with Retry-After;
  - call A's BYE, within its dialog, still reaches the UAS and its 200
    comes back (the old sipd answered it 503: the call could not end);
  - "sipctl status" still answers;
  - call B is answered: the 200 reaches the UAC, then sipd exits 0, well
    before its grace time.
Then the bounds: a call left ringing holds a stop for "set stop-grace"
(3 s) and no longer; a second SIGTERM stops at once; so does
"sipctl shutdown now"."""

import os
import re
import signal
import time

import sipdtest
import sipua
from sipdtest import check

GRACE = 3


def start(binary, started):
    return sipua.start_proxy(
        binary, started,
        conf=lambda s: "set force-rr on\nset stop-grace %d" % GRACE)


def ring(uac, uas, sipd):
    call = sipua.Call(uac, uas.uri("uas"))
    uac.send(call.request("INVITE"), sipd.port)
    invite = uas.expect_request("INVITE", call.call_id)
    uas.respond(invite, 180, to_tag="b" + call.from_tag)
    uac.expect_response(180, call)
    return call, invite


def exited_within(sipd, seconds):
    t0 = time.monotonic()
    try:
        rc = sipd.proc.wait(seconds)
    except Exception:
        return None, time.monotonic() - t0
    return rc, time.monotonic() - t0


def drain(binary, started, uac, uas):
    sipd = start(binary, started)
    # call A: answered before the stop
    a = sipua.Call(uac, uas.uri("uas"))
    uac.send(a.request("INVITE"), sipd.port)
    inv = uas.expect_request("INVITE", a.call_id)
    uas.respond(inv, 200, to_tag="a" + a.from_tag)
    ok = uac.expect_response(200, a)
    uac.send(a.ack(ok), sipd.port)
    uas.expect_request("ACK", a.call_id)
    # call B: ringing
    b, b_invite = ring(uac, uas, sipd)

    os.kill(sipd.proc.pid, signal.SIGTERM)
    check(sipd.wait_log("stopping (SIGTERM)", 3.0), "no stop line")

    c = sipua.Call(uac, uas.uri("uas"))
    uac.send(c.request("INVITE"), sipd.port)
    refused = uac.expect_response(503, c)
    check(refused.first("Retry-After") is not None,
          "503 without Retry-After: %r" % refused)
    print("new INVITE while stopping: %d, Retry-After %s" % (
        refused.status, refused.first("Retry-After")))
    r = sipua.Call(uac, "sip:someone@127.0.0.1")
    uac.send(r.request("REGISTER", extra=[
        ("Contact", "<%s>" % uac.uri("someone"))]), sipd.port)
    check(uac.expect_response(503, r).status == 503,
          "a REGISTER while stopping not refused")
    check([m for m in uas.collect(0.2) if m.is_request()] == [],
          "something new was forwarded while stopping")

    # call A ends properly
    routes = list(reversed(ok.get("Record-Route")))
    uac.send(a.request("BYE", uri=ok.first("Contact").strip("<>"),
                       to=ok.first("To"),
                       extra=[("Route", x) for x in routes]), sipd.port)
    bye = uas.expect_request("BYE", a.call_id)
    uas.respond(bye, 200)
    uac.expect_response(200, a, method="BYE")
    print("BYE within a dialog while stopping: relayed, 200 back")

    p = sipdtest.sipctl(sipd, "status")
    check(p.returncode == 0, "sipctl status while stopping: %r" % p.stderr)

    # call B answered: then sipd goes
    uas.respond(b_invite, 200, to_tag="b" + b.from_tag)
    uac.expect_response(200, b)
    rc, took = exited_within(sipd, GRACE + 5)
    print("exited %r %.2f s after the last transaction ended" % (rc, took))
    check(rc == 0, "sipd did not exit 0 (%r)" % rc)
    check(took < GRACE - 1, "sipd waited %.2f s with nothing running" % took)
    check(sipd.wait_log("no transaction left running", 1.0),
          "no line saying the transactions ended")


def bounds(binary, started, uac, uas):
    # a call that rings on holds the stop for stop-grace, no longer
    sipd = start(binary, started)
    ring(uac, uas, sipd)
    t0 = time.monotonic()
    os.kill(sipd.proc.pid, signal.SIGTERM)
    rc, _ = exited_within(sipd, GRACE + 5)
    took = time.monotonic() - t0
    print("a ringing call held the stop %.2f s (stop-grace %d)" % (
        took, GRACE))
    check(rc == 0, "sipd exited %r" % rc)
    check(GRACE - 0.5 < took < GRACE + 2,
          "stopped after %.2f s, stop-grace %d" % (took, GRACE))
    check(re.search(r"\d+ transactions? still running after 3 s",
                    sipd.log()) is not None, "no line naming what was cut")

    # a second SIGTERM: at once
    sipd = start(binary, started)
    ring(uac, uas, sipd)
    os.kill(sipd.proc.pid, signal.SIGTERM)
    check(sipd.wait_log("stopping (SIGTERM)", 3.0), "no stop line")
    os.kill(sipd.proc.pid, signal.SIGTERM)
    rc, took = exited_within(sipd, GRACE + 5)
    print("second SIGTERM: exited %r after %.2f s" % (rc, took))
    check(rc == 0 and took < 1.5, "a second SIGTERM took %.2f s" % took)

    # shutdown now: at once
    sipd = start(binary, started)
    ring(uac, uas, sipd)
    t0 = time.monotonic()
    p = sipdtest.sipctl(sipd, "shutdown", "now")
    check(p.returncode == 0, "shutdown now: %r" % p.stderr)
    rc, _ = exited_within(sipd, GRACE + 5)
    took = time.monotonic() - t0
    print("shutdown now: exited %r after %.2f s" % (rc, took))
    check(rc == 0 and took < 1.5, "shutdown now took %.2f s" % took)


def test(binary, started):
    sipdtest.sipctl_binary()
    uac, uas = sipua.UA(), sipua.UA()
    try:
        drain(binary, started, uac, uas)
        bounds(binary, started, uac, uas)
    finally:
        uac.close()
        uas.close()


sipdtest.run(test)

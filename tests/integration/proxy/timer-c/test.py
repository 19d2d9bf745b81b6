"""Timer C (RFC 3261 16.6 step 11, 16.7 step 2, 16.8; sipd.8: "a ringing
INVITE is cancelled after Timer C", set timer-c 1000, its least).

The UAS rings (180) and never answers: sipd sends it a CANCEL in the
INVITE's branch no sooner than Timer C after the 180 (less the timer's
granularity) and not much later; the UAS answers the CANCEL 200 and the
INVITE 487, and the caller gets that 487.  A second 180 before Timer C
fires restarts it: the CANCEL comes Timer C after the second 180."""

import time

import sipdtest
import sipua
from sipdtest import check

TIMER_C = 1.0  # set timer-c 1000
GRAIN = 0.02   # the wheel's slot (8 ms) and the worker's tick (10 ms)
SLACK = 1.0    # how late a loaded machine may be


def ring(sipd, uac, uas, rings):
    """The INVITE rung with 180s rings seconds apart; returns the
    seconds from the last 180 to the CANCEL."""
    call = sipua.Call(uac, uas.uri("uas"))
    uac.send(call.request("INVITE"), sipd.port)
    inv = uas.expect_request("INVITE", call.call_id)
    last = None
    for i, pause in enumerate(rings):
        if pause:
            early = [m for m in uas.collect(pause) if m.is_request()]
            check(early == [], "requests before Timer C: %s" % early)
        uas.respond(inv, 180, to_tag="uas1")
        last = time.monotonic()
        uac.expect_response(180, call)
    cancel = uas.expect_request("CANCEL", call.call_id,
                                timeout=TIMER_C + SLACK)
    after = time.monotonic() - last
    check(cancel.branch() == inv.branch(),
          "CANCEL in branch %s, not the INVITE's %s" % (cancel.branch(),
                                                         inv.branch()))
    uas.respond(cancel, 200)
    uas.respond(inv, 487, to_tag="uas1")
    resp = uac.expect(
        "the final response", lambda m: (not m.is_request() and
                                         m.status >= 200 and
                                         m.call_id() == call.call_id))
    check(resp.status == 487, "the caller got %d, not 487" % resp.status)
    uac.send(call.ack(resp), sipd.port)
    uas.expect_request("ACK", call.call_id)
    return after


def test(binary, started):
    uac, uas = sipua.UA(), sipua.UA()
    try:
        sipd = sipua.start_proxy(
            binary, started, conf=lambda s: "set timer-c %d" % (
                TIMER_C * 1000))
        after = ring(sipd, uac, uas, [0])
        print("CANCEL %.0f ms after the 180" % (after * 1000))
        check(after >= TIMER_C - GRAIN,
              "CANCEL %.0f ms after the 180, before Timer C (%d ms)" % (
                  after * 1000, TIMER_C * 1000))
        # restarted by a second 180 at 0.6 Timer C
        after = ring(sipd, uac, uas, [0, 0.6 * TIMER_C])
        print("CANCEL %.0f ms after the second 180" % (after * 1000))
        check(after >= TIMER_C - GRAIN,
              "CANCEL %.0f ms after the second 180: Timer C (%d ms) was "
              "not restarted" % (after * 1000, TIMER_C * 1000))
    finally:
        uac.close()
        uas.close()
    sipdtest.stop_clean(sipd)


sipdtest.run(test)

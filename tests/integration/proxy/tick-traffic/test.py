"""Messages that arm no timer do not bring a tick of its own.  One
OPTIONS relayed through sipd and answered 200 leaves its client
transaction waiting out Timer K (T4, RFC 3261 17.1.2.2); then the callee
sends that 200 again every 30 ms for 3 s, each absorbed by the
transaction (17.1.2.2: Completed absorbs retransmissions), nothing armed.
Counted from every thread's voluntary context switches
(/proc/PID/task/*/status): each datagram wakes the worker once.  A
worker that started a 10 ms tick on every message after a quiet spell
woke again 20 ms later to find nothing due, two sleeps a datagram (some
200 for 100 datagrams); one that arms its tick for the first timer due,
at most 100 ms away, sleeps once a datagram and ten times a second more:
fewer than 1.5 a datagram and 15 in all."""

import time

import sipdtest
import sipua
from sipdtest import check

SPAN_S = 3.0
EVERY_S = 0.03


def test(binary, started):
    uac, uas = sipua.UA(), sipua.UA()
    try:
        sipd = sipua.start_proxy(binary, started)
        call = sipua.Call(uac, uas.uri("uas"))
        uac.send(call.request("OPTIONS"), sipd.port)
        req = uas.expect_request("OPTIONS", call.call_id)
        ok = uas.respond(req, 200, to_tag="uas1")
        uac.expect_response(200, call)
        time.sleep(0.5)
        before = sipdtest.thread_sleeps(sipd.proc.pid)
        sent = 0
        start = time.monotonic()
        for _ in range(int(SPAN_S / EVERY_S)):
            uas.send_response(req, ok)
            sent += 1
            time.sleep(max(0.0, start + sent * EVERY_S - time.monotonic()))
        n = sipdtest.thread_sleeps(sipd.proc.pid) - before
        most = int(1.5 * sent) + 15
        check(n < most,
              "sipd's threads slept %d times for %d absorbed 200s in "
              "%.0f s (at most %d expected)" % (n, sent, SPAN_S, most))
        # absorbed, never relayed again
        extra = [m for m in uac.collect(0.2) if not m.is_request()]
        check(not extra, "the caller received %d more responses: %s" %
              (len(extra), [m.start for m in extra]))
    finally:
        uac.close()
        uas.close()
    sipdtest.stop_clean(sipd)


sipdtest.run(test)

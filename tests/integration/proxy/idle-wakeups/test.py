"""A quiet sipd whose transactions only wait sleeps until their timers
are due.  One OPTIONS relayed through sipd and answered 200 leaves its
server transaction waiting out Timer J (64*T1, RFC 3261 17.2.2) and its
client transaction Timer K (T4, 17.1.2.2): nothing is due for seconds.
Counted from every thread's voluntary context switches
(/proc/PID/task/*/status) over 3 s of that quiet: a worker that ticked
every 10 ms to find nothing due slept some 50 times a second (150 or
more in all); one that sleeps until the first timer is due, at most
100 ms (the gateways' timers run on the same tick), some 10 times a
second: fewer than 75 in all.  That the
timers still fire on time is shown by the timer-b, timer-c and timer-f
cases."""

import time

import sipdtest
import sipua
from sipdtest import check

QUIET_S = 3.0
MAX_SLEEPS = 75


def test(binary, started):
    uac, uas = sipua.UA(), sipua.UA()
    try:
        sipd = sipua.start_proxy(binary, started)
        call = sipua.Call(uac, uas.uri("uas"))
        uac.send(call.request("OPTIONS"), sipd.port)
        req = uas.expect_request("OPTIONS", call.call_id)
        uas.respond(req, 200, to_tag="uas1")
        uac.expect_response(200, call)
        # let the tick settle on the waiting timers (Timers J and K)
        time.sleep(0.5)
        before = sipdtest.thread_sleeps(sipd.proc.pid)
        time.sleep(QUIET_S)
        n = sipdtest.thread_sleeps(sipd.proc.pid) - before
        check(n < MAX_SLEEPS,
              "sipd's threads slept %d times in %.0f s of quiet with only "
              "Timers J and K armed (at most %d expected)" %
              (n, QUIET_S, MAX_SLEEPS))
    finally:
        uac.close()
        uas.close()
    sipdtest.stop_clean(sipd)


sipdtest.run(test)

"""A call whose BYE never comes ends at the dialog timeout.  sipd runs
with call records on and "set dialog-timeout 2"; a sipp UAC calls a sipp
UAS through it, the UAS answers, the UAC ACKs, and both go quiet.
Checked while the call is up: "show calls -j" lists it (its Call-ID,
From, To, Request-URI and source as the UAC sent them, state answered)
and "show dialogs -j" lists its dialog with the caller's tag and the
callee's (as the UAC saw them in the 200), and no record is written yet.
Then, within 5 s, the CSV file holds one record: the INVITE's fields,
status 200, hangup "timeout", ended 2 s (at most 1 s more, the tick)
after the answer; the call and the dialog are gone from both lists.
Then with "set cdr off" and "set force-rr on", a second such call is
Record-Routed and listed by "show calls", leaves the list at the dialog
timeout, and adds no record.
sipd without call records refuses "set cdr": a failure.  sipp missing:
a skip (a failure under CI=true)."""

import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))

import cdrcall  # noqa: E402
import sipdtest  # noqa: E402


def test(binary, started):
    with tempfile.TemporaryDirectory(prefix="sipdtest-") as workdir:
        call = cdrcall.CdrCall(binary, started, workdir,
                               conf=["set dialog-timeout 2"])
        t0 = time.time()
        call.run(cdrcall.NO_BYE)
        invite = call.sent(call.uac_trace, "INVITE")[0]
        ok = call.received(call.uac_trace, "SIP/2.0 200")
        sipdtest.check(ok, "the UAC received no 200")
        calls = call.ctl_json("show", "calls")
        sipdtest.check(len(calls) == 1, "show calls: %r" % calls)
        c = calls[0]
        want = {"call-id": invite.call_id(), "from": invite.first("From"),
                "to": invite.first("To"), "request-uri": invite.uri,
                "source": "udp:127.0.0.1:%d" % call.uac_port,
                "state": "answered", "user": ""}
        for k, v in want.items():
            sipdtest.check(c.get(k) == v, "show calls %s is %r, not %r" % (
                k, c.get(k), v))
        dialogs = call.ctl_json("show", "dialogs")
        sipdtest.check(len(dialogs) == 1, "show dialogs: %r" % dialogs)
        to = ok[0].first("To")
        want = {"call-id": invite.call_id(),
                "from-tag": cdrcall.sipua.param(invite.first("From"), "tag"),
                "to-tag": cdrcall.sipua.param(to, "tag")}
        for k, v in want.items():
            sipdtest.check(dialogs[0].get(k) == v,
                           "show dialogs %s is %r, not %r" % (
                               k, dialogs[0].get(k), v))
        sipdtest.check(call.records() == [], "a record before the end")
        recs = call.wait_records(1, timeout=5.0)
        t1 = time.time()
        rec = cdrcall.check_record(call, recs[0], 200, "timeout", True, t0,
                                   t1)
        dur = float(rec["duration"])
        sipdtest.check(2.0 <= dur <= 3.2, "ended %.3f s after the answer, "
                       "not at the 2 s dialog timeout" % dur)
        sipdtest.check(call.ctl_json("show", "calls") == [] and
                       call.ctl_json("show", "dialogs") == [],
                       "the call is still listed")

        # records off, force-rr on: the call is listed, never recorded
        for cmd in (("set", "cdr", "off"), ("set", "force-rr", "on")):
            r = sipdtest.sipctl(call.sipd, *cmd)
            sipdtest.check(r.returncode == 0, "%s: %s" % (cmd, r.stderr))
        call.run(cdrcall.NO_BYE)
        cdrcall.check_rr(call)
        invite = call.sent(call.uac_trace, "INVITE")[0]
        calls = call.ctl_json("show", "calls")
        sipdtest.check([c["call-id"] for c in calls] == [invite.call_id()],
                       "show calls with force-rr: %r" % calls)
        deadline = time.monotonic() + 5
        while call.ctl_json("show", "calls") and time.monotonic() < deadline:
            time.sleep(0.1)
        sipdtest.check(call.ctl_json("show", "calls") == [],
                       "the call outlived the dialog timeout")
        sipdtest.check(len(call.records()) == 1, "a record with records "
                       "off: %r" % call.records())
        sipdtest.stop_clean(call.sipd)


sipdtest.run(test)

"""Records survive a restart, and calls up at a restart are closed as
"interrupted".  With call records on: call A (answered, hung up by the
caller) ends; call B is answered and stays up (no BYE); sipd stops
(SIGTERM) and starts again on the same file.  Checked: the file holds
A's record (once) and B's, with B's INVITE fields, status 200, its
answer time, hangup "interrupted" and an end time after the restart
began.  Then call C is answered and stays up, sipd is killed (SIGKILL)
and started again: C is closed as interrupted too, and A and B are not
written again (3 records).  sipd without call records refuses "set
cdr": a failure.  sipp missing: a skip (a failure under CI=true)."""

import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))

import cdrcall  # noqa: E402
import sipdtest  # noqa: E402

import signal  # noqa: E402


def up_call(call):
    """An answered call left up: its INVITE as the UAC sent it."""
    call.run(cdrcall.NO_BYE)
    invite = call.sent(call.uac_trace, "INVITE")[0]
    calls = call.ctl_json("show", "calls")
    sipdtest.check([c["call-id"] for c in calls] == [invite.call_id()],
                   "show calls: %r" % calls)
    return invite


def test(binary, started):
    with tempfile.TemporaryDirectory(prefix="sipdtest-") as workdir:
        call = cdrcall.CdrCall(binary, started, workdir)
        t0 = time.time()
        call.run(cdrcall.CALLER_BYE)
        t1 = time.time()
        a = call.sent(call.uac_trace, "INVITE")[0]
        cdrcall.check_record(call, call.wait_records(1)[0], 200,
                             "caller-bye", True, t0, t1, invite=a)

        t0 = time.time()
        b = up_call(call)
        t_stop = time.time()
        sipdtest.stop_clean(call.sipd)
        call.sipd.start()
        t1 = time.time()
        recs = call.wait_records(2)
        sipdtest.check(recs[0]["call_id"] == a.call_id(),
                       "A's record changed: %r" % recs[0])
        rec = cdrcall.check_record(call, recs[1], 200, "interrupted", True,
                                   t0, t1, invite=b)
        sipdtest.check(cdrcall.parse_time(rec["end_time"]) >= t_stop - 0.01,
                       "interrupted before the restart: %r" % rec)
        sipdtest.check(call.ctl_json("show", "calls") == [],
                       "the interrupted call is still listed")

        # killed: nothing is written at the stop, the next start closes C
        t0 = time.time()
        c = up_call(call)
        os.kill(call.sipd.proc.pid, signal.SIGKILL)
        call.sipd.proc.wait(timeout=5)
        call.sipd.proc = None
        call.sipd.start()
        t1 = time.time()
        recs = call.wait_records(3)
        sipdtest.check([r["call_id"] for r in recs[:2]] ==
                       [a.call_id(), b.call_id()],
                       "records before the kill changed: %r" % recs)
        cdrcall.check_record(call, recs[2], 200, "interrupted", True, t0, t1,
                             invite=c)
        sipdtest.stop_clean(call.sipd)


sipdtest.run(test)

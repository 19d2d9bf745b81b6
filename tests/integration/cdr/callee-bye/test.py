"""A call answered and hung up by the callee gives one record with
hangup "callee-bye".  A sipp UAC calls a sipp UAS through sipd with call
records on; the UAS answers and sends the BYE (by the Record-Route set
of the INVITE, so through sipd).  Checked: the UAC received that BYE
(sipd relayed it), and the CSV file holds one record whose fields are
those of the INVITE the UAC sent, status 200, the times in order, the
duration the answer-to-end time and hangup "callee-bye" (the BYE's To
tag is the caller's).  sipd without call records refuses "set cdr": a
failure.  sipp missing: a skip (a failure under CI=true)."""

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
        call = cdrcall.CdrCall(binary, started, workdir)
        t0 = time.time()
        call.run(cdrcall.CALLEE_BYE)
        t1 = time.time()
        cdrcall.check_rr(call)
        byes = call.received(call.uac_trace, "BYE")
        sipdtest.check(len(byes) == 1, "the UAC received %d BYEs" %
                       len(byes))
        recs = call.wait_records(1)
        cdrcall.check_record(call, recs[0], 200, "callee-bye", True, t0, t1)
        sipdtest.stop_clean(call.sipd)


sipdtest.run(test)

"""A call the caller cancels while it rings gives one record with
status 487 and hangup "cancel".  A sipp UAC calls a sipp UAS through
sipd with call records on; the UAS rings (180), the UAC sends CANCEL,
the UAS answers it and the INVITE with 487.  Checked: the UAC received
the 487 (through sipd), and the CSV file holds one record whose fields
are those of the INVITE the UAC sent, no answer time, duration 0.000,
status 487, hangup "cancel"; no call is left in "show calls".  sipd
without call records refuses "set cdr": a failure.  sipp missing: a
skip (a failure under CI=true)."""

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
        call.run(cdrcall.CANCELLED)
        t1 = time.time()
        sipdtest.check(call.received(call.uac_trace, "SIP/2.0 487"),
                       "the UAC received no 487")
        recs = call.wait_records(1)
        cdrcall.check_record(call, recs[0], 487, "cancel", False, t0, t1)
        sipdtest.check(call.ctl_json("show", "calls") == [],
                       "a call left in the table")
        sipdtest.stop_clean(call.sipd)


sipdtest.run(test)

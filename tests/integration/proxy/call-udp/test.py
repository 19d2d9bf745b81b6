"""sipp calls through sipd over UDP on both legs, with set force-rr on:
each call succeeds, the INVITE reaches the UAS with sipd's Via and
Max-Forwards one less, sipd's Record-Route comes back in the 200, and
every request of the dialog (ACK, BYE), sent by the route set the UAC
learnt from it, reaches the UAS with sipd's Route entry taken off.  All
of it as the two sipps sent and received it (-trace_msg).  Skipped
without sipp."""

import tempfile

import sipdtest
import sipua


def test(binary, started):
    sipua.sipp_binary()
    with tempfile.TemporaryDirectory(prefix="sipdtest-") as workdir:
        call = sipua.SippCall(binary, started, workdir, "u1", "u1",
                              force_rr=True).run()
        call.check_via("INVITE")
        call.check_record_route()
        call.check_responses()
        for method in ("ACK", "BYE"):
            call.check_via(method)
        call.check_routes_used()
        sipdtest.stop_clean(call.sipd)


sipdtest.run(test)

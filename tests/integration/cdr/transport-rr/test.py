"""A dialog sipd Record-Routes only because the transport changes is
listed by "show dialogs", with call records and force-rr off, and never
recorded.  A sipp UAC calls over UDP a sipp UAS that a rule reaches
over TCP ("route add 127.0.0.2 ... transport tcp"), so sipd puts two
Record-Route entries (RFC 5658); the call stays up 1.5 s, then the
caller hangs up.  Checked: the UAS received the INVITE over TCP with
sipd's Record-Route; while the call is up "show dialogs -j" lists it
with the caller's and the callee's tags (as the UAC sent and received
them) and "show calls -j" as answered; after the BYE both lists are
empty and no records file was made.  sipd 0.1.0 has no "show
dialogs": a failure.  sipp missing: a skip (a failure under
CI=true)."""

import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))

import cdrcall  # noqa: E402
import sipdtest  # noqa: E402
from sipdtest import check  # noqa: E402


def test(binary, started):
    with tempfile.TemporaryDirectory(prefix="sipdtest-") as workdir:
        call = cdrcall.CdrCall(binary, started, workdir,
                               conf=["set cdr off"], uas="t1")
        uac, uas = call.start(cdrcall.LONG_CALL)
        dialogs = []
        deadline = time.monotonic() + 5
        for _ in range(100):
            dialogs = call.ctl_json("show", "dialogs")
            if dialogs or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        calls = call.ctl_json("show", "calls")
        call.finish(uac, uas)
        cdrcall.check_rr(call)
        invite = call.sent(call.uac_trace, "INVITE")[0]
        ok = call.received(call.uac_trace, "SIP/2.0 200")[0]
        check(len(dialogs) == 1, "show dialogs during the call: %r" %
              dialogs)
        want = {"call-id": invite.call_id(),
                "from-tag": cdrcall.sipua.param(invite.first("From"), "tag"),
                "to-tag": cdrcall.sipua.param(ok.first("To"), "tag")}
        for k, v in want.items():
            check(dialogs[0].get(k) == v, "show dialogs %s is %r, not %r" %
                  (k, dialogs[0].get(k), v))
        check(len(calls) == 1 and calls[0]["state"] == "answered" and
              calls[0]["call-id"] == invite.call_id(),
              "show calls during the call: %r" % calls)
        check(call.ctl_json("show", "dialogs") == [] and
              call.ctl_json("show", "calls") == [],
              "the dialog is listed after its BYE")
        check(not os.path.exists(call.csv_path),
              "a records file with records off")
        sipdtest.stop_clean(call.sipd)


sipdtest.run(test)

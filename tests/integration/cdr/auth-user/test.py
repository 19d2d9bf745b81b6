"""The record of an authenticated call names the account.  sipd with
call records on, the domain example.com and the account alice in it,
"set auth-local-from on", the loopback not a client-ip: a sipp UAC calls a sipp UAS through sipd with
From alice@example.com; sipd challenges it (407, answered without a
transaction), the UAC sends the INVITE again with alice's credentials,
the UAS answers and the UAC hangs up.  Checked: the UAC received the
407 and the 200; the CSV file holds one record (the challenged INVITE
gives none), with the INVITE's fields, user "alice@example.com",
status 200 and hangup "caller-bye".  sipd without call records refuses
"set cdr": a failure.  sipp missing: a skip (a failure under
CI=true)."""

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
        call = cdrcall.CdrCall(binary, started, workdir, conf=[
            "domain add example.com",
            "account add alice@example.com password secret",
            "set auth-local-from on"], clients=False)
        t0 = time.time()
        # the digest's uri is the Request-URI (RFC 7616 3.4.6)
        call.run(cdrcall.AUTHENTICATED, uac_args=[
            "-auth_uri", "bob@127.0.0.2:%d" % call.uas_port])
        t1 = time.time()
        sipdtest.check(call.received(call.uac_trace, "SIP/2.0 407") and
                       call.received(call.uac_trace, "SIP/2.0 200"),
                       "the UAC was not challenged, then answered")
        recs = call.wait_records(1)
        invites = call.sent(call.uac_trace, "INVITE")
        sipdtest.check(len(invites) == 2, "the UAC sent %d INVITEs" %
                       len(invites))
        cdrcall.check_record(call, recs[0], 200, "caller-bye", True, t0, t1,
                             invite=invites[1], user="alice@example.com")
        sipdtest.stop_clean(call.sipd)


sipdtest.run(test)

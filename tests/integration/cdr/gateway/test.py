"""A call record names the External Gateway a call went through.  sipd
with "set cdr on", a gateway P (the gateway cases' provider stand-in:
sipp running tests/integration/gw/provider.xml on 127.0.0.2, which
challenges the INVITE; sipd answers the challenge itself), and a Router
record NoRelay:Signal:<9*> = *@P.sipgw.  A client on 127.0.0.1 calls
95551234@example.com: the provider answers, the caller hangs up, and
the record's gateway field is "P" (its Request-URI the one sent to the
gateway).  The
same caller then calls a UA on 127.0.0.3 directly: that record's
gateway field is empty.  A sipd that does not name the gateway gives an
empty field for the first call: a failure.  sipp missing: a skip (a
failure under CI=true)."""

import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)),
                                "gw"))

import cdrcall  # noqa: E402
import gwlib  # noqa: E402
import sipdtest  # noqa: E402
import sipua  # noqa: E402
from sipdtest import check  # noqa: E402


def call_and_hang_up(caller, sipd, uri, callee=None):
    """INVITE uri, ACK the 200, BYE by the route set; callee (a UA) is
    the other side when it is not the provider.  Returns the Call."""
    call = sipua.Call(caller, uri)
    caller.send(call.request("INVITE"), sipd.port)
    if callee is not None:
        inv = callee.expect_request("INVITE", call.call_id, 5.0)
        callee.respond(inv, 200)
    resp = caller.expect("a final response", lambda m: (
        not m.is_request() and m.status >= 200 and
        m.call_id() == call.call_id), 8.0)
    check(resp.status == 200, "the call to %s got %d" % (uri, resp.status))
    caller.send(call.ack(resp), sipd.port)
    if callee is not None:
        callee.expect_request("ACK", call.call_id, 5.0)
    rr = list(reversed(resp.get("Record-Route")))
    check(rr, "sipd did not Record-Route the call to %s" % uri)
    caller.send(call.request(
        "BYE", uri=resp.first("Contact").strip("<>"), to=resp.first("To"),
        extra=[("Route", r) for r in rr]), sipd.port)
    if callee is not None:
        bye = callee.expect_request("BYE", call.call_id, 5.0)
        callee.respond(bye, 200)
    caller.expect_response(200, call, "BYE", 5.0)
    return call


def test(binary, started):
    sipua.sipp_binary()
    work = tempfile.TemporaryDirectory(prefix="cdr-gateway-")
    prov = gwlib.Provider(work.name, "provider", "provider.xml", 5,
                          sets=(("gwuser", "gwuser"), ("gwpass", "gwpass"),
                                ("expires", 60)))
    caller = sipua.UA("127.0.0.1")
    callee = sipua.UA("127.0.0.3")
    csv_path = os.path.join(work.name, "cdr.csv")
    try:
        sipd = sipdtest.Sipd(binary, clients=False, conf=(
            "client-ip add 127.0.0.1/32\n"
            "domain add example.com\n"
            "set cdr on\n"
            "set cdr-file %s\n"
            "gateway add P domain provider.test via 127.0.0.2:%d "
            "username gwuser password gwpass\n"
            "router add NoRelay:Signal:<9*> = *@P.sipgw\n"
            % (csv_path, prov.port)))
        started.append(sipd)
        sipd.start()
        rec_reader = cdrcall.CdrCall.__new__(cdrcall.CdrCall)
        rec_reader.csv_path = csv_path

        gw_call = call_and_hang_up(caller, sipd, "sip:95551234@example.com")
        invs = [m for m in prov.received("INVITE")
                if m.call_id() == gw_call.call_id]
        check(invs and invs[0].uri == "sip:5551234@provider.test",
              "the provider's INVITEs: %s" % invs)
        recs = rec_reader.wait_records(1)
        check(recs[0]["call_id"] == gw_call.call_id and
              recs[0]["request_uri"] == "sip:5551234@provider.test",
              "the record is not the caller's INVITE: %r" % recs[0])
        check(recs[0]["gateway"] == "P", "the call through gateway P has "
              "gateway field %r: %r" % (recs[0]["gateway"], recs[0]))
        check(recs[0]["status"] == "200" and
              recs[0]["hangup"] == "caller-bye", "record %r" % recs[0])

        direct = call_and_hang_up(
            caller, sipd, "sip:bob@127.0.0.3:%d" % callee.port, callee)
        recs = rec_reader.wait_records(2)
        check(recs[1]["call_id"] == direct.call_id, "record %r" % recs[1])
        check(recs[1]["gateway"] == "", "a call through no gateway has "
              "gateway field %r" % recs[1]["gateway"])
        sipdtest.stop_clean(sipd)
    finally:
        prov.stop()
        caller.close()
        callee.close()
        work.cleanup()


sipdtest.run(test)

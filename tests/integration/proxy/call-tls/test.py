"""A call through sipd over TLS on both legs, with a self-signed
certificate made at test time by the openssl command line (sipd checks
the UAS against it with set tls-client-ca; a rule sends the UAS's address
over TLS).  A Python UAC and UAS over TLS: the INVITE, ACK and BYE
reach the UAS with sipd's TLS Via on top, the responses come back without
it.  When sipp was built with TLS, sipp calls (-t l1 on both legs) too.
Skipped without openssl."""

import shutil
import ssl
import tempfile

import sipdtest
import sipua
from sipdtest import check


def python_call(binary, started, cert, key):
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert, key)
    client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client.load_verify_locations(cert)
    uas = sipua.StreamUA("127.0.0.2", server)
    sipd = sipua.start_proxy(
        binary, started, tls=(cert, key),
        conf=lambda s: "set tls-client-ca %s\n"
        "route add 127.0.0.2 127.0.0.2:%d transport tls" % (cert, uas.port))
    uac = sipua.StreamUA("127.0.0.1", client,
                         connect=("127.0.0.1", sipd.tls_port))
    sipd_via = "SIP/2.0/TLS 127.0.0.1:%d;" % sipd.tls_port
    try:
        call = sipua.Call(uac, uas.uri("uas"))
        uac.send(call.request("INVITE"))
        uac.expect_response(100, call)
        inv = uas.expect_request("INVITE", call.call_id)
        check(inv.first("Via").startswith(sipd_via),
              "INVITE reached the UAS with top Via %r, not sipd's %s" % (
                  inv.first("Via"), sipd_via))
        check(inv.branch(1) == call.branch, "the UAC's Via is not second: %s"
              % inv.get("Via"))
        uas.respond(inv, 180, to_tag="uas1")
        uac.expect_response(180, call)
        uas.respond(inv, 200, to_tag="uas1")
        ok = uac.expect_response(200, call)
        check(sipua.branches(ok) == [call.branch],
              "200 came with Vias %s" % ok.get("Via"))
        uac.send(call.ack(ok))
        ack = uas.expect_request("ACK", call.call_id)
        check(ack.first("Via").startswith(sipd_via),
              "ACK reached the UAS with top Via %r" % ack.first("Via"))
        contact = ok.first("Contact").strip("<>")
        uac.send(call.request("BYE", uri=contact, to=ok.first("To")))
        bye = uas.expect_request("BYE", call.call_id)
        check(bye.first("Via").startswith(sipd_via),
              "BYE reached the UAS with top Via %r" % bye.first("Via"))
        uas.respond(bye, 200)
        ok = uac.expect_response(200, call, "BYE")
        check(sipua.branches(ok) == [call.branch],
              "200 to BYE came with Vias %s" % ok.get("Via"))
    finally:
        uac.close()
        uas.close()
    sipdtest.stop_clean(sipd)


def test(binary, started):
    with tempfile.TemporaryDirectory(prefix="sipdtest-") as workdir:
        cert, key = sipua.self_signed(workdir)
        # sipd checks the UAS's certificate against set tls-client-ca
        python_call(binary, started, cert, key)
        if shutil.which("sipp") is None or \
                not sipua.sipp_has_tls(workdir):
            print("sipp without TLS: the sipp calls are left out")
            return
        call = sipua.SippCall(binary, started, workdir, "l1", "l1").run()
        for method in ("INVITE", "ACK", "BYE"):
            call.check_via(method)
        call.check_responses()
        sipdtest.stop_clean(call.sipd)


sipdtest.run(test)

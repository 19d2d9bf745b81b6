"""A 200 retransmitted once its request is gone, with workarounds in
force (sipd.conf(5), Workarounds).

A caller presenting "User-Agent: Acme Phone 1.0" (products table:
noMaddr) calls a UA through sipd; the UA answers 200 and, the ACK being
late, retransmits it twice (RFC 3261 13.3.1.4).  Each retransmission
reaches the caller and sipd is still running: the response is relayed
as received when the request it answers is no longer kept (RFC 6026),
where sipd used to read the missing request's User-Agent and crash."""

import sipdtest
import sipua
from sipdtest import check

CONF = 'set force-rr on\nworkaround product add "Acme Phone*" noMaddr'


def test(binary, started):
    uac, uas = sipua.UA(), sipua.UA()
    try:
        sipd = sipua.start_proxy(binary, started, conf=lambda s: CONF)
        call = sipua.Call(uac, uas.uri("uas"))
        uac.send(call.request("INVITE", extra=[
            ("User-Agent", "Acme Phone 1.0")]), sipd.port)
        inv = uas.expect_request("INVITE", call.call_id)
        ok = uas.respond(inv, 200, to_tag="uas1")
        uac.expect_response(200, call)
        for n in range(2):
            uas.send_response(inv, ok)
            uac.expect_response(200, call, timeout=2.0)
        uac.send(call.ack(uac.seen[-1]), sipd.port)
        uas.expect_request("ACK", call.call_id)
    finally:
        uac.close()
        uas.close()
    check(sipd.alive(), "sipd died")
    sipdtest.stop_clean(sipd)


sipdtest.run(test)

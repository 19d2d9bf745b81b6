"""Max-Forwards (RFC 3261 16.3 step 3, 16.6 step 3): a MESSAGE or an
INVITE with Max-Forwards 0 is answered 483 and not forwarded; a request
forwarded goes on with Max-Forwards one less, or 70 when it had none; an
OPTIONS with 0 is not forwarded either: sipd answers it itself with 200
and Allow, Accept and Supported, as sipd.8 says."""

import sipdtest
import sipua
from sipdtest import check


def test(binary, started):
    uac, uas = sipua.UA(), sipua.UA()
    try:
        sipd = sipua.start_proxy(binary, started)
        for method in ("MESSAGE", "INVITE"):
            call = sipua.Call(uac, uas.uri("uas"))
            uac.send(call.request(method, max_forwards=0), sipd.port)
            uac.expect_response(483, call)
        call = sipua.Call(uac, uas.uri("uas"))
        uac.send(call.request("OPTIONS", max_forwards=0), sipd.port)
        resp = uac.expect(
            "a final response to OPTIONS",
            lambda m: m.status is not None and m.status >= 200 and
            m.call_id() == call.call_id)
        # sipd.8: "an OPTIONS with 0 is answered by sipd itself", with
        # 200 OK and the headers Allow, Accept and Supported
        check(resp.status == 200, "OPTIONS with Max-Forwards 0 got %d, "
              "not sipd's own 200" % resp.status)
        for name in ("Allow", "Accept", "Supported"):
            check(resp.first(name) is not None,
                  "sipd's 200 to OPTIONS lacks %s: %s" % (name, resp.raw))
        check("OPTIONS" in resp.first("Allow"),
              "Allow: %s" % resp.first("Allow"))
        # a request forwarded at once would reach the UAS within Timer
        # T1 (500 ms): sipd forwards before it answers anything else
        stray = uas.collect(sipua.silence())
        check(stray == [], "requests with Max-Forwards 0 were forwarded: "
              "%s" % stray)

        for sent, want in ((5, "4"), (1, "0"), (None, "70")):
            call = sipua.Call(uac, uas.uri("uas"))
            uac.send(call.request("MESSAGE", max_forwards=sent), sipd.port)
            msg = uas.expect_request("MESSAGE", call.call_id)
            check(msg.get("Max-Forwards") == [want],
                  "Max-Forwards %s forwarded as %s, not %s" % (
                      sent, msg.get("Max-Forwards"), want))
            uas.respond(msg, 200)
            uac.expect_response(200, call)
    finally:
        uac.close()
        uas.close()
    sipdtest.stop_clean(sipd)


sipdtest.run(test)

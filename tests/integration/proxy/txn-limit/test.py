"""The server transaction limit (set max-server 2): two INVITEs ringing
at a UAS that answers 180 only hold both transactions, so the next
INVITEs are refused 503 with Retry-After (RFC 3261 21.5.4) and never
reach the UAS.  Once the two have answered 486, a new INVITE goes
through at the first try: a transaction that has sent its final
response is reclaimed at the limit (sipd.conf(5)), long before its
Timer I (set t4 100) or 64*T1.  The limit is sipd's, whatever its
worker count: the Call-IDs are fixed, and they fall on both workers'
shards when there are two."""

import sipdtest
import sipua
from sipdtest import check



def test(binary, started):
    uac, uas = sipua.UA(), sipua.UA()
    try:
        sipd = sipua.start_proxy(binary, started,
                                 conf=lambda s: "set max-server 2\n"
                                 "set t4 100")
        calls = [sipua.Call(uac, uas.uri("uas"), "limit-%d@sipua" % i)
                 for i in range(1, 6)]
        ringing = []
        for call in calls:
            uac.send(call.request("INVITE"), sipd.port)
            resp = uac.expect(
                "100 or 503 to the INVITE of %s" % call.call_id,
                lambda m: m.status in (100, 503) and
                m.call_id() == call.call_id)
            if resp.status == 503:
                check(resp.first("Retry-After") is not None,
                      "503 without Retry-After")
                continue
            inv = uas.expect_request("INVITE", call.call_id)
            uas.respond(inv, 180, to_tag="uas1")
            uac.expect_response(180, call)
            ringing.append((call, inv))
        check(len(ringing) == 2,
              "%d INVITEs ringing with set max-server 2 (%d workers): %s" %
              (len(ringing), sipua.processors(),
               [c.call_id for c, _ in ringing]))
        stray = [m for m in uas.collect(sipua.silence()) if
                 m.method == "INVITE" and
                 m.call_id() not in [c.call_id for c, _ in ringing]]
        check(stray == [], "refused INVITEs reached the UAS: %s" % stray)

        for call, inv in ringing:
            uas.respond(inv, 486, to_tag="uas1")
            busy = uac.expect_response(486, call)
            uac.send(call.ack(busy), sipd.port)
            uas.expect_request("ACK", call.call_id)
        # both have sent their final response: sipd.conf(5), set
        # max-server, "at the limit, the worker ends its own such
        # transaction that has waited longest", so the next INVITE goes
        # through at once, the first time, whatever Timer I (T4) says
        call = sipua.Call(uac, uas.uri("uas"), "limit-after@sipua")
        uac.send(call.request("INVITE"), sipd.port)
        resp = uac.expect("100 or 503 to a later INVITE",
                          lambda m: m.status in (100, 503) and
                          m.call_id() == call.call_id)
        check(resp.status == 100, "an INVITE after the others ended got "
              "%d: their finished transactions were not reclaimed" %
              resp.status)
        inv = uas.expect_request("INVITE", call.call_id)
        uas.respond(inv, 486, to_tag="uas2")
        busy = uac.expect_response(486, call)
        uac.send(call.ack(busy), sipd.port)
    finally:
        uac.close()
        uas.close()
    sipdtest.stop_clean(sipd)


sipdtest.run(test)

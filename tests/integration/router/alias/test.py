"""Router records on the wire (sipd.conf.5, Router), checked on the UAs'
sockets:

- `Signal:<help> = alice`: a MESSAGE to help@example.com reaches alice's
  registered device, its Request-URI the device's contact;
- `oldco.com = example.com`: a MESSAGE to alice@oldco.com reaches the
  same device (the domain moved, the local part kept);
- alice@SIPD-ADDRESS (sipd's own address and port) reaches alice: an
  address of sipd's is the main domain for an account's name; OPTIONS
  to nobody@SIPD-ADDRESS is still answered by sipd itself;
- `Mail:<info> = alice` never applies to SIP: info@example.com gets 404
  and nothing reaches the device.
Without the Router table the configuration is refused; with the records
ignored help@ and alice@oldco.com get 404."""

import sipdtest
import sipua
from sipdtest import check

CONF = """domain add example.com
account add alice@example.com password alice-pw
router add Signal:<help> = alice
router add oldco.com = example.com
router add Mail:<info> = alice
"""


def final(uac, call):
    return uac.expect("a final response", lambda m: (
        not m.is_request() and m.status >= 200 and
        m.call_id() == call.call_id), 5.0)


def test(binary, started):
    uac = sipua.UA()
    alice = sipua.UA("127.0.0.2")
    try:
        sipd = sipua.start_proxy(binary, started, conf=lambda s: CONF)
        r = sipua.register(alice, sipd.port, "alice", "example.com",
                           "alice-pw")
        check(r.status == 200, "alice's REGISTER got %d" % r.status)
        for uri in ("sip:help@example.com", "sip:alice@oldco.com",
                    "sip:help@OldCo.com"):
            call = sipua.Call(uac, uri)
            uac.send(call.request("MESSAGE"), sipd.port)
            msg = alice.expect_request("MESSAGE", call.call_id)
            check(msg.uri == alice.uri("alice"),
                  "MESSAGE to %s reached alice as %s, not her contact %s"
                  % (uri, msg.uri, alice.uri("alice")))
            alice.respond(msg, 200)
            uac.expect_response(200, call)
        # sipd's own address with an account's name: that account; any
        # other name stays sipd's own (OPTIONS answered by sipd)
        call = sipua.Call(uac, "sip:alice@127.0.0.1:%d" % sipd.port)
        uac.send(call.request("MESSAGE"), sipd.port)
        msg = alice.expect_request("MESSAGE", call.call_id)
        check(msg.uri == alice.uri("alice"), "alice@sipd reached alice as "
              "%s" % msg.uri)
        alice.respond(msg, 200)
        uac.expect_response(200, call)
        call = sipua.Call(uac, "sip:nobody@127.0.0.1:%d" % sipd.port)
        uac.send(call.request("OPTIONS"), sipd.port)
        uac.expect_response(200, call)

        call = sipua.Call(uac, "sip:info@example.com")
        uac.send(call.request("MESSAGE"), sipd.port)
        resp = final(uac, call)
        check(resp.status == 404, "info@ (a Mail: record) got %d, not 404"
              % resp.status)
        stray = [m for m in alice.collect(0.3) if m.is_request()]
        check(stray == [], "a Mail: record reached alice: %s" % stray)
    finally:
        uac.close()
        alice.close()
    sipdtest.stop_clean(sipd)


sipdtest.run(test)

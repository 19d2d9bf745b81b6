"""A request that requires an extension gets 420 Bad Extension with the
option tags in Unsupported: sipd supports none yet.

- Require on a request to sipd itself (RFC 3261 8.2.2.3): OPTIONS with
  "Require: 100rel, timer" gets 420 listing both.  CANCEL is exempt (no
  INVITE to cancel: 481), and an ACK is never answered.
- Proxy-Require (RFC 3261 16.3 step 5, which comes before Route
  processing, the location service and Proxy-Authorization), from a
  stranger (loopback not a client):
  - INVITE to an unknown user of a local domain: 420, not the 407 a
    stranger's unauthenticated request otherwise gets, nor 404 or 480;
  - INVITE to a registered user: 420, and the registered device receives
    nothing;
  - INVITE to a foreign address: 420 before the relay policy, and the
    foreign address receives nothing;
  - OPTIONS to sipd itself: Proxy-Require is for proxies, sipd answers as
    the UAS: 200.
"""

import sipdtest
import sipreg
from sipdtest import Peer, check, request
from sipua import UA, Call

CONF = """domain add example.com
account add alice@example.com password secret
"""


def unsupported(resp):
    return [t.strip() for v in resp.get("Unsupported") for t in v.split(",")]


def require_on_sipd(sipd):
    peer = Peer()
    try:
        req = request("OPTIONS", sipd.port,
                      extra=[("Require", "100rel, timer")])
        r = peer.ask(req, sipd.port)
        check(r is not None and r.status == 420, "Require: got %r" % r)
        check(unsupported(r) == ["100rel", "timer"],
              "Unsupported: %r" % unsupported(r))

        req = request("CANCEL", sipd.port, extra=[("Require", "100rel")])
        r = peer.ask(req, sipd.port)
        # no INVITE to cancel: 481 (RFC 3261 16.10)
        check(r is not None and r.status == 481, "CANCEL: got %r" % r)

        peer.send(request("ACK", sipd.port, extra=[("Require", "x")]),
                  sipd.port)
        check(peer.recv(1.0) is None, "ACK was answered")

        # to sipd itself, Proxy-Require is not sipd's to check
        req = request("OPTIONS", sipd.port,
                      extra=[("Proxy-Require", "foo")])
        r = peer.ask(req, sipd.port)
        check(r is not None and r.status == 200,
              "OPTIONS to sipd with Proxy-Require: got %r" % r)
    finally:
        peer.close()


def invite_420(sipd, caller, uri, tags):
    """INVITE uri with Proxy-Require: tags; the final answer must be 420
    listing them (and is ACKed)."""
    call = Call(caller, uri)
    caller.send(call.request("INVITE", extra=[("Proxy-Require",
                                               ", ".join(tags))]),
                sipd.port)
    r = caller.expect("final response to INVITE %s" % uri,
                      lambda m: (not m.is_request() and m.status >= 200 and
                                 m.call_id() == call.call_id), 3.0)
    check(r.status == 420, "INVITE %s with Proxy-Require: got %d %s "
          "(want 420 before routing)" % (uri, r.status, r.reason))
    check(unsupported(r) == tags, "INVITE %s: Unsupported %r, want %r" % (
        uri, unsupported(r), tags))
    caller.send(call.ack(r), sipd.port)
    return r


def test(binary, started):
    sipd = sipreg.start(binary, started, conf=CONF, client_ip=[])
    require_on_sipd(sipd)

    device = UA("127.0.0.5")
    caller = UA("127.0.0.6")
    canary = UA("127.0.0.3")
    try:
        reg = sipreg.RegClient(device, sipd.port, "alice", "secret")
        ok = reg.register([reg.contact()], 300)
        check(ok.status == 200, "alice's REGISTER: %d" % ok.status)

        invite_420(sipd, caller, "sip:nobody@example.com", ["foo"])
        invite_420(sipd, caller, "sip:alice@example.com", ["foo", "bar"])
        invite_420(sipd, caller, "sip:bob@127.0.0.3:%d" % canary.port,
                   ["foo"])
        # sipd decides and sends while handling the one datagram: a
        # forwarded INVITE would have left before the 420 arrived
        for ua, who in ((device, "alice's device"), (canary, "127.0.0.3")):
            got = ua.collect(0.5)
            check(got == [], "%s received %r" % (who, got))
    finally:
        for ua in (device, caller, canary):
            ua.close()
    sipdtest.stop_clean(sipd)


sipdtest.run(test)

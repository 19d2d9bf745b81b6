"""NoRelay records are for clients (sipd.conf.5, Router): with
`NoRelay:Signal:<9*> = *@127.0.0.5:PORT` (a canary UAS standing in for a
paid gateway), only 127.0.0.1 a client-ip, and relaying open to anybody
(so that the record alone keeps strangers out):

- a client (127.0.0.1) calling 95551234@example.com reaches the canary
  as sip:5551234@127.0.0.5:PORT (the 9 is literal and dropped);
- a stranger (127.0.0.3) calling the same gets 407 (it may prove an
  account) and the canary receives nothing, however often it tries;
- the stranger answering the challenge with a wrong password gets 407
  or 403 again, and the canary still receives nothing;
- alice (an account) from 127.0.0.3 answering the challenge reaches the
  canary: authenticated senders are clients.
Without the Router table the configuration is refused."""

import re

import sipdtest
import sipua
from sipdtest import check


def final(ua, call):
    return ua.expect("a final response", lambda m: (
        not m.is_request() and m.status >= 200 and
        m.call_id() == call.call_id), 5.0)


def challenge_answer(ua, sipd, call, resp, user, pw):
    chs = [v for v in resp.get("Proxy-Authenticate")
           if re.search(r"algorithm=\"?MD5\b", v, re.IGNORECASE)]
    check(chs, "407 without an MD5 challenge: %s" %
          resp.get("Proxy-Authenticate"))
    auth = sipua.digest_authorization(chs[0], user, pw, "MESSAGE",
                                      call.uri)
    ua.send(call.request("MESSAGE", extra=[("Proxy-Authorization",
                                            auth)]), sipd.port)


def test(binary, started):
    client = sipua.UA("127.0.0.1")
    stranger = sipua.UA("127.0.0.3")
    canary = sipua.UA("127.0.0.5")
    try:
        sipd = sipua.ProxySipd(binary, conf=lambda s: (
            "client-ip add 127.0.0.1/32\n"
            "relay to-non-clients anybody\n"
            "domain add example.com\n"
            "account add alice@example.com password alice-pw\n"
            "router add NoRelay:Signal:<9*> = *@127.0.0.5:%d\n"
            % canary.port))
        sipd.clients = False
        started.append(sipd)
        sipd.start()
        want = "sip:5551234@127.0.0.5:%d" % canary.port

        call = sipua.Call(client, "sip:95551234@example.com")
        client.send(call.request("MESSAGE"), sipd.port)
        msg = canary.expect_request("MESSAGE", call.call_id)
        check(msg.uri == want, "the client's call reached the canary as "
              "%s, not %s" % (msg.uri, want))
        canary.respond(msg, 200)
        client.expect_response(200, call)

        for _ in range(3):
            call = sipua.Call(stranger, "sip:95551234@example.com")
            stranger.send(call.request("MESSAGE"), sipd.port)
            resp = final(stranger, call)
            check(resp.status == 407, "the stranger's call got %d, not "
                  "407" % resp.status)
        challenge_answer(stranger, sipd, call, resp, "alice", "wrong")
        resp = final(stranger, call)
        check(resp.status in (400, 403, 407), "a wrong password got %d" %
              resp.status)
        stray = [m for m in canary.collect(0.5) if m.is_request()]
        check(stray == [], "a stranger reached the canary: %s" % stray)

        call = sipua.Call(stranger, "sip:95551234@example.com")
        stranger.send(call.request("MESSAGE"), sipd.port)
        resp = final(stranger, call)
        check(resp.status == 407, "alice's first try got %d" % resp.status)
        challenge_answer(stranger, sipd, call, resp, "alice", "alice-pw")
        msg = canary.expect_request("MESSAGE", call.call_id)
        check(msg.uri == want, "alice's call reached the canary as %s"
              % msg.uri)
        canary.respond(msg, 200)
        stranger.expect_response(200, call)
    finally:
        for ua in (client, stranger, canary):
            ua.close()
    sipdtest.stop_clean(sipd)


sipdtest.run(test)

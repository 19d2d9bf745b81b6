"""A response relayed in its transaction is dropped when the Via below
sipd's is malformed (RFC 3261 16.7 step 3), however sipd comes to know it
is well-formed: a response whose next Via is, byte for byte, the top Via
of the request sipd received (as sipd forwarded it, with its received and
rport) is relayed without being parsed again; any other is parsed as it
always was.  sipd runs with loopback not trusted but 127.0.0.5 a client;
a call from the client to a UAS on 127.0.0.4, whose 180s and 200s carry
as their next Via:

- a malformed one, the caller's Via with one byte changed ("SIP/2.0 UDP"
  for "SIP/2.0/UDP", or a letter in its port): dropped, the client
  receives nothing, the canary on 127.0.0.2 nothing;
- another well-formed Via (naming the canary): relayed as before, in the
  transaction to where the INVITE came from (the client), carrying that
  Via; the canary receives nothing;
- that Via with a second one after it on the same line, or folded over
  two lines: parsed, relayed to the client;
- the Via unchanged: relayed to the client, its Vias the ones it sent,
  with the received and rport sipd wrote."""

import sipdtest
import sipreg
import sipua
from sipdtest import check


def response(uas, inv, status, vias, to_tag, raw_via=None):
    """status to inv from the UAS: sipd's Via, then the Via lines vias
    (values), or raw_via (whole lines, folding and all) instead."""
    lines = ["SIP/2.0 %d %s" % (status, "Ringing" if status == 180 else
                                "OK"),
             "Via: " + inv.get("Via")[0]]
    lines += raw_via if raw_via is not None else ["Via: " + v for v in vias]
    lines += ["From: " + inv.first("From"),
              "To: %s;tag=%s" % (inv.first("To"), to_tag),
              "Call-ID: " + inv.call_id(),
              "CSeq: " + inv.first("CSeq"),
              "Contact: <%s>" % uas.uri("uas"),
              "Content-Length: 0", "", ""]
    return "\r\n".join(lines).encode()


def relayed(client, status, call):
    """The responses of status to call the client received in 0.4 s."""
    return [m for m in client.collect(0.4)
            if m.status == status and m.call_id() == call.call_id]


def test(binary, started):
    client = sipua.UA("127.0.0.5")
    uas = sipua.UA("127.0.0.4")
    canary = sipua.UA("127.0.0.2")
    try:
        sipd = sipreg.start(binary, started,
                            client_ip=["127.0.0.5/32"])
        call = sipua.Call(client, uas.uri("uas"))
        client.send(call.request("INVITE"), sipd.port)
        inv = uas.expect_request("INVITE", call.call_id)
        vias = inv.get("Via")
        check(len(vias) == 2, "the INVITE arrived with Vias %s" % vias)
        mine = vias[1]
        check(mine.startswith("SIP/2.0/UDP 127.0.0.5:%d;" % client.port),
              "the caller's Via as forwarded: %r" % mine)
        other = "SIP/2.0/UDP 127.0.0.2:%d;branch=z9hG4bKother;rport" % (
            canary.port)
        port = str(client.port)
        malformed = [
            ("'SIP/2.0 UDP'", mine.replace("SIP/2.0/UDP", "SIP/2.0 UDP", 1)),
            ("a letter in its port", mine.replace(
                ":" + port, ":" + port[:-1] + "x", 1)),
        ]
        for status in (180, 200):
            for what, via in malformed:
                check(len(via) == len(mine) and via != mine,
                      "not one byte changed: %r" % via)
                uas.send(response(uas, inv, status, [via], "uas1"), sipd.port)
                got = relayed(client, status, call)
                check(got == [], "a %d whose next Via has %s reached the "
                      "client: %s" % (status, what, got))
                check(canary.collect(0.1) == [],
                      "the canary received something")
            if status == 180:
                cases = [
                    ("another well-formed Via", [other], None),
                    ("a second Via on its line", [mine + ", " + other],
                     None),
                    ("its Via folded", None,
                     ["Via: " + mine.split(";", 1)[0] + "\r\n ;" +
                      mine.split(";", 1)[1]]),
                ]
                for what, vs, raw in cases:
                    uas.send(response(uas, inv, 180, vs, "uas1", raw), sipd.port)
                    got = relayed(client, 180, call)
                    check(len(got) == 1, "a 180 with %s: the client "
                          "received %s" % (what, got))
                    lines = ["Via: " + v for v in vs] if vs else raw
                    want = "".join(ln + "\r\n" for ln in lines).encode()
                    check(want in got[0].raw and
                          got[0].raw.count(b"\r\nVia:") == len(lines),
                          "a 180 with %s reached the client as %r, its Via "
                          "lines not %r" % (what, got[0].raw, want))
                    check(canary.collect(0.1) == [],
                          "the canary received a 180 with %s" % what)
            uas.send(response(uas, inv, status, [mine], "uas1"), sipd.port)
            got = relayed(client, status, call)
            check(len(got) == 1 and got[0].get("Via") == [mine],
                  "the %d with the next Via unchanged: the client received "
                  "%s" % (status, got))
        client.send(call.ack(got[0]), sipd.port)
        uas.expect_request("ACK", call.call_id)
        check(canary.collect(0.2) == [], "the canary received something")
    finally:
        client.close()
        uas.close()
        canary.close()
    sipdtest.stop_clean(sipd)


sipdtest.run(test)

"""A response no client transaction knows is relayed by its Via (RFC 3261
16.7, 18.2.2) only when its top Via carries a branch sipd signed, and only
to the address the Via below it named when sipd sent the request (the
signature covers it).  sipd runs with loopback not trusted but 127.0.0.5
a client (set t1 20, so an INVITE client transaction ends 1.3 s after its
2xx); the canaries on 127.0.0.2, a UDP socket and a TCP listener, must
receive nothing and be connected to by nobody.

- a call from the client to a UAS on 127.0.0.4: the UAS's 200 reaches the
  client; once sipctl show stats counts no client transaction, the UAS
  retransmits the 200 and it still reaches the client (a legit orphan);
- that 200 with the second Via changed to the UDP canary, or a received=
  naming the canary added to it, or over TCP to the TCP canary: dropped;
- a 200 with sipd's Via on top and a branch sipd did not sign (in sipd's
  shape, next Via the UDP canary; any other, the TCP canary): dropped;
each dropped one with a log line at problems, and the client gets no
extra response."""

import re
import select
import socket
import time

import sipdtest
import sipreg
import sipua
from sipdtest import check, new_tag


def no_client_transactions(sipd):
    return sipreg.ctl(sipd, "show", "stats")["client-transactions"] == 0


def replace_second_via(data, via):
    """data (a response) with its second Via value replaced by via."""
    text = data.decode()
    lines = text.split("\r\n")
    vias = [i for i, ln in enumerate(lines) if ln.startswith("Via:")]
    check(len(vias) == 2, "the UAS's 200 has Vias %s" % vias)
    lines[vias[1]] = "Via: " + via
    return "\r\n".join(lines).encode()


def test(binary, started):
    client = sipua.UA("127.0.0.5")
    uas = sipua.UA("127.0.0.4")
    canary = sipua.UA("127.0.0.2")
    tcp_canary = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        tcp_canary.bind(("127.0.0.2", 0))
        tcp_canary.listen(8)
        tcp_port = tcp_canary.getsockname()[1]
        sipd = sipreg.start(binary, started, conf="set t1 20\n",
                            client_ip=["127.0.0.5/32"])
        call = sipua.Call(client, uas.uri("uas"))
        client.send(call.request("INVITE"), sipd.port)
        branch = call.branch
        inv = uas.expect_request("INVITE", call.call_id)
        ok = uas.respond(inv, 200, to_tag="uas1")
        first = client.expect_response(200, call)
        client.send(call.ack(first), sipd.port)
        uas.expect_request("ACK", call.call_id)
        sipreg.wait_for("the INVITE client transaction to end",
                        lambda: no_client_transactions(sipd), timeout=10.0)

        # the legit orphan: a retransmission of the 200
        uas.send_response(inv, ok)
        again = client.expect_response(200, call, "INVITE", timeout=2.0)
        check(sipua.branches(again) == [branch],
              "the orphan 200 reached the client with Vias %s" %
              again.get("Via"))

        top = inv.get("Via")[0]
        forged = [
            ("its next Via changed to the canary",
             replace_second_via(ok, "SIP/2.0/UDP 127.0.0.2:%d;branch=z9hG4bKx"
                                % canary.port)),
            ("a received= naming the canary added",
             replace_second_via(ok, inv.get("Via")[1] +
                                ";received=127.0.0.2")),
            ("its next Via changed to the TCP canary",
             replace_second_via(ok, "SIP/2.0/TCP 127.0.0.2:%d;branch=z9hG4bKx"
                                % tcp_port)),
        ]
        shaped = "z9hG4bKs0.%s%s.%s.%s%s%s" % (
            new_tag(), new_tag(), new_tag(), new_tag(), new_tag(), new_tag())
        for proto, port, branch in (("UDP", canary.port, shaped),
                                    ("TCP", tcp_port, "z9hG4bK" + new_tag())):
            unsigned = re.sub(r"branch=[^;,\s]+", "branch=" + branch, top,
                              count=1)
            text = ok.decode().replace("Via: " + top, "Via: " + unsigned, 1)
            forged.append(("branch %s, next Via the %s canary" % (
                branch, proto), replace_second_via(
                    text.encode(), "SIP/2.0/%s 127.0.0.2:%d;branch=z9hG4bKx"
                    % (proto, port))))
        for what, data in forged:
            uas.send(data, sipd.port)
            got = canary.collect(0.3)
            check(got == [], "a 200 with %s reached the canary: %s" % (
                what, got))
            ready, _, _ = select.select([tcp_canary], [], [], 0.2)
            check(ready == [], "sipd connected to the TCP canary for a 200 "
                  "with %s" % what)
        check(sipd.wait_log("branch not signed by sipd") and
              sipd.wait_log("branch not sipd's"),
              "sipd did not log the dropped responses")
        extra = [m for m in client.collect(0.3) if m.status == 200]
        check(extra == [], "the client got more 200s: %s" % extra)
        s = sipreg.ctl(sipd, "show", "stats")
        check(s["connections-out"] == 0, "sipd connected out %d times" %
              s["connections-out"])
    finally:
        client.close()
        uas.close()
        canary.close()
        tcp_canary.close()
    sipdtest.stop_clean(sipd)


sipdtest.run(test)

"""Challenges hold no server transaction (RFC 3261 26.3.2.4; sipd.conf(5),
auth-challenge-rate): a 407 to an unauthenticated INVITE is sent
statelessly, and its ACK, known by sipd's To tag, is absorbed.

sipd with loopback not a client, set max-server 20, and a static
route for example.com to a canary on 127.0.0.2 (the location service
still serves the domain's INVITEs; an ACK that were not absorbed would
follow the route to the canary).  A stranger
(127.0.0.1) sends 60 INVITEs without credentials, half to bob (a local
user with no binding: a stranger must authenticate first) and half to a
canary (relaying for a stranger needs authentication); each
gets 407 with a Proxy-Authenticate challenge, then the stranger ACKs
each 407.  Afterwards:
- show stats: no server transaction live or ever created, no client
  transaction, nothing relayed statelessly; show transactions server is
  empty;
- the canary received nothing, and the stranger nothing after its ACKs
  (an ACK is never answered);
- a second stranger (127.0.0.5) is challenged (407);
- a client (127.0.0.6, a client-ip) calling the canary is served: the
  INVITE reaches the canary, whose 486 comes back, not a 503.
(With a server transaction per challenge, held for Timer H, the table
filled after 20, and every request that needs one got 503.)"""

import socket
import time

import sipdtest
import sipreg
from sipdtest import check, new_tag
from sipua import Msg

CONF = """domain add example.com
account add bob@example.com password bob-pw
set max-server 20
"""
N = 60


class Udp:
    def __init__(self, host):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.host = host
        self.port = self.sock.getsockname()[1]

    def recv(self, timeout):
        self.sock.settimeout(timeout)
        try:
            data, _ = self.sock.recvfrom(65536)
        except socket.timeout:
            return None
        return Msg(data)

    def close(self):
        self.sock.close()


def invite(peer, uri, call_id, branch, from_tag):
    return ("INVITE %s SIP/2.0\r\n"
            "Via: SIP/2.0/UDP %s:%d;branch=%s;rport\r\n"
            "Max-Forwards: 70\r\n"
            "From: <sip:eve@stranger.invalid>;tag=%s\r\n"
            "To: <%s>\r\n"
            "Call-ID: %s\r\n"
            "CSeq: 1 INVITE\r\n"
            "Contact: <sip:eve@%s:%d>\r\n"
            "Content-Length: 0\r\n\r\n" % (
                uri, peer.host, peer.port, branch, from_tag, uri, call_id,
                peer.host, peer.port)).encode()


def ack(peer, uri, call_id, branch, from_tag, to):
    """RFC 3261 17.1.1.3: the ACK of a non-2xx final response."""
    return ("ACK %s SIP/2.0\r\n"
            "Via: SIP/2.0/UDP %s:%d;branch=%s;rport\r\n"
            "Max-Forwards: 70\r\n"
            "From: <sip:eve@stranger.invalid>;tag=%s\r\n"
            "To: %s\r\n"
            "Call-ID: %s\r\n"
            "CSeq: 1 ACK\r\n"
            "Content-Length: 0\r\n\r\n" % (
                uri, peer.host, peer.port, branch, from_tag, to,
                call_id)).encode()


def challenged(peer, sipd, uri):
    """An INVITE to uri without credentials: its answer, and the ACK."""
    call_id = "%s@stranger" % new_tag()
    branch = "z9hG4bK%s%s" % (new_tag(), new_tag())
    from_tag = new_tag()
    peer.sock.sendto(invite(peer, uri, call_id, branch, from_tag),
                     ("127.0.0.1", sipd.port))
    deadline = time.monotonic() + 3.0
    for _ in range(20):
        resp = peer.recv(max(0.05, deadline - time.monotonic()))
        check(resp is not None, "no answer to the INVITE to %s" % uri)
        if resp.call_id() == call_id and resp.status >= 200:
            break
    else:
        raise sipdtest.Fail("no final answer to the INVITE to %s" % uri)
    if resp.status == 407:
        peer.sock.sendto(ack(peer, uri, call_id, branch, from_tag,
                             resp.first("To")), ("127.0.0.1", sipd.port))
    return resp


def served(sipd, canary, client):
    """The client's INVITE to the canary goes through sipd (a server
    transaction): the canary answers 486, which reaches the client."""
    uri = "sip:y@127.0.0.2:%d" % canary.port
    call_id = "%s@client" % new_tag()
    branch = "z9hG4bK%s%s" % (new_tag(), new_tag())
    from_tag = new_tag()
    client.sock.sendto(invite(client, uri, call_id, branch, from_tag),
                       ("127.0.0.1", sipd.port))
    inv = canary.recv(3.0)
    if inv is None:
        resp = client.recv(0.5)
        raise sipdtest.Fail("the client's INVITE did not reach the "
                            "canary; the client got %s" % (
                                resp and resp.start))
    check(inv.method == "INVITE" and inv.call_id() == call_id,
          "the canary received %s, not the client's INVITE" % inv.start)
    hdrs = "".join("%s: %s\r\n" % (n, v) for n, v in inv.headers
                   if n.lower() in ("via", "from", "call-id", "cseq"))
    to = inv.first("To") + ";tag=%s" % new_tag()
    resp = ("SIP/2.0 486 Busy Here\r\n%sTo: %s\r\nContent-Length: 0"
            "\r\n\r\n" % (hdrs, to)).encode()
    canary.sock.sendto(resp, ("127.0.0.1", sipd.port))
    deadline = time.monotonic() + 3.0
    for _ in range(20):
        got = client.recv(max(0.05, deadline - time.monotonic()))
        check(got is not None, "the canary's 486 did not reach the client")
        if got.status is not None and got.status >= 200:
            break
    check(got.status == 486, "the client got %d %s, not the canary's 486" %
          (got.status, got.reason))
    client.sock.sendto(ack(client, uri, call_id, branch, from_tag,
                           got.first("To")), ("127.0.0.1", sipd.port))


def stats(sipd):
    return sipreg.ctl(sipd, "show", "stats")


def test(binary, started):
    canary = Udp("127.0.0.2")
    sipd = sipreg.start(binary, started, conf=CONF +
                        "route add example.com 127.0.0.2:%d" % canary.port,
                        client_ip=["127.0.0.6/32"])
    eve = Udp("127.0.0.1")
    other = Udp("127.0.0.5")
    client = Udp("127.0.0.6")
    try:
        for i in range(N):
            uri = ("sip:bob@example.com" if i % 2 == 0 else
                   "sip:x%d@127.0.0.2:%d" % (i, canary.port))
            resp = challenged(eve, sipd, uri)
            check(resp.status == 407, "INVITE %d to %s from a stranger: "
                  "%d %s, not 407" % (i + 1, uri, resp.status, resp.reason))
            check(resp.get("Proxy-Authenticate"),
                  "407 without Proxy-Authenticate")
            check(sipreg.challenge_algs(resp, "Proxy-Authenticate"),
                  "407 without a Digest challenge")
        resp = challenged(other, sipd, "sip:bob@example.com")
        check(resp.status == 407, "after %d challenges, another stranger "
              "got %d %s, not 407" % (N, resp.status, resp.reason))
        s = stats(sipd)
        for key in ("server-transactions", "server-created",
                    "client-transactions", "client-created",
                    "relayed-stateless"):
            check(s[key] == 0, "show stats %s: %d after %d challenges "
                  "and their ACKs, not 0" % (key, s[key], N + 1))
        check(s["responses-out"]["4xx"] == N + 1,
              "show stats responses-out 4xx %d, not %d" % (
                  s["responses-out"]["4xx"], N + 1))
        rows = sipreg.ctl(sipd, "show", "transactions", "server")
        check(not rows, "show transactions server: %s" % rows)
        # the silence windows: Timer A (500 ms) is when a lost answer
        # would be resent; the ACKs left long before
        got = canary.recv(0.6)
        check(got is None, "the canary received %s" % (
            got and got.start))
        got = eve.recv(0.1)
        check(got is None, "the stranger received %s after its ACKs" % (
            got and got.start))
        served(sipd, canary, client)
    finally:
        canary.close()
        eve.close()
        other.close()
        client.close()
    check(sipd.alive(), "sipd died")
    sipdtest.stop_clean(sipd)


sipdtest.run(test)

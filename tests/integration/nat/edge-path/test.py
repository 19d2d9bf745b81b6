"""sipd as the edge proxy of another registrar (RFC 3327): a REGISTER for
a domain sipd does not serve is relayed to that domain's registrar, here
a stand-in on 127.0.0.5.  A client behind a remote NAT can be reached
only through sipd, so sipd adds a Path naming itself to its REGISTER
(sipd.conf(5), NAT traversal); RFC 3327 5.1: only when the client says
"Supported: path".  The NATed client here writes 127.0.0.200 (in the
nated list for this test, "nated add 127.0.0.128/25") in its Via and
Contact; its packets come from 127.0.0.2, where no NAT maps 127.0.0.200.

What the registrar stand-in receives of each REGISTER, and what the
client then gets:
- from the NATed client with Supported: path: one Path on top naming
  sipd's address and port, with a signed flow in its user part
  (<sip:fl...@127.0.0.1:PORT;lr>); the registrar's 200 reaches the
  client;
- an INVITE the registrar sends back through that Path to the client's
  Contact (sip:alice@127.0.0.200:P) reaches the client at 127.0.0.2,
  its flow, with that Request-URI; the same INVITE with the signature
  of the Path's user part changed does not (sipd sends it to the
  Contact, where nothing listens);
- the same client without Supported: path: no Path (a Path the client
  did not ask for would make the registrar refuse it, RFC 3327 5.2);
- a client not behind a NAT (it writes 127.0.0.3, its own address) with
  Supported: path: no Path, sipd need not stay on its path.
Against a sipd that adds no Path for NATed clients the first check
fails; against one whose Path has no flow, the INVITE never reaches the
client."""

import re

import sipdtest
from sipdtest import Sipd, check
from sipua import UA, Call, new_tag


class NatUA(UA):
    """A UA on host that writes advertise in its Via and Contact, as a
    phone behind a NAT writes its private address."""

    def __init__(self, host, advertise):
        super().__init__(host)
        self.advertise = advertise

    def uri(self, user="ua"):
        return "sip:%s@%s:%d" % (user, self.advertise, self.port)

    def via(self, branch):
        return "SIP/2.0/UDP %s:%d;branch=%s;rport" % (
            self.advertise, self.port, branch)


def register(sipd, client, registrar, supported):
    """client REGISTERs alice@127.0.0.5 through sipd; the REGISTER the
    registrar receives, answered 200."""
    domain = "127.0.0.5:%d" % registrar.port
    hdrs = [("Via", client.via("z9hG4bK" + new_tag())),
            ("Max-Forwards", "70"),
            ("From", "<sip:alice@%s>;tag=%s" % (domain, new_tag())),
            ("To", "<sip:alice@%s>" % domain),
            ("Call-ID", "%s@edge" % new_tag()),
            ("CSeq", "1 REGISTER"),
            ("Contact", "<%s>" % client.uri("alice")),
            ("Expires", "300")]
    if supported:
        hdrs.append(("Supported", "path"))
    text = "REGISTER sip:%s SIP/2.0\r\n" % domain
    text += "".join("%s: %s\r\n" % h for h in hdrs)
    client.send(text.encode() + b"Content-Length: 0\r\n\r\n", sipd.port)
    got = registrar.expect_request("REGISTER")
    registrar.respond(got, 200, extra=[("Path", p)
                                       for p in got.get("Path")])
    ok = client.expect("the registrar's 200",
                       lambda m: not m.is_request() and m.status == 200)
    check(ok.cseq()[1] == "REGISTER", "answer: %r" % ok)
    return got


def invite(sipd, registrar, contact, route):
    """The registrar's INVITE to contact through sipd by route."""
    c = Call(registrar, contact)
    registrar.send(c.request("INVITE", extra=[("Route", route)]),
                   sipd.port)
    return c


def test(binary, started):
    sipd = Sipd(binary, conf="nated add 127.0.0.128/25\n")
    started.append(sipd)
    sipd.start()
    registrar = UA("127.0.0.5")
    nated = NatUA("127.0.0.2", "127.0.0.200")
    plain = UA("127.0.0.3")
    try:
        got = register(sipd, nated, registrar, True)
        path = got.get("Path")
        check(len(path) == 1 and re.fullmatch(
            r"<sip:fl[-_A-Za-z0-9]+\.[0-9a-f]+@127\.0\.0\.1:%d;lr>" %
            sipd.port, path[0]),
              "Path of a NATed client's REGISTER at the registrar: %r "
              "(want sipd's <sip:fl...@127.0.0.1:%d;lr>)" % (
                  path, sipd.port))
        contact = got.first("Contact").strip("<>")
        inv = invite(sipd, registrar, contact, path[0])
        m = nated.expect_request("INVITE", inv.call_id)
        check(m.start.split()[1] == contact, "Request-URI: %r" % m.start)
        nated.respond(m, 486)
        r = registrar.expect_response(486, inv, "INVITE")
        registrar.send(inv.ack(r), sipd.port)
        user = re.match(r"<sip:([^@]+)@", path[0]).group(1)
        bad = path[0].replace(user, user[:-1] + (
            "0" if user[-1] != "0" else "1"))
        inv = invite(sipd, registrar, contact, bad)
        got = nated.collect(1.0)
        check(not [x for x in got if x.is_request() and
                   x.call_id() == inv.call_id],
              "a forged flow reached the client: %r" % got)
        got = register(sipd, nated, registrar, False)
        check(got.get("Path") == [], "Path without Supported: path: %r" %
              got.get("Path"))
        got = register(sipd, plain, registrar, True)
        check(got.get("Path") == [], "Path for a client not behind a "
              "NAT: %r" % got.get("Path"))
    finally:
        registrar.close()
        nated.close()
        plain.close()
    sipdtest.stop_clean(sipd)


sipdtest.run(test)

"""sipd as the edge proxy of another registrar (RFC 3327): a REGISTER for
a domain sipd does not serve is relayed to that domain's registrar, here
a stand-in on 127.0.0.5.  A client behind a remote NAT can be reached
only through sipd, so sipd adds a Path naming itself to its REGISTER
(sipd.conf(5), NAT traversal); RFC 3327 5.1: only when the client says
"Supported: path".

What the registrar stand-in receives of each REGISTER, and what the
client then gets:
- from a client behind a NAT (it writes 10.0.0.5 in its Via and Contact,
  its packets come from 127.0.0.2) with Supported: path: one Path on
  top, <sip:127.0.0.1:PORT;lr>, sipd's own address and port; the
  registrar's 200 reaches the client;
- the same client without Supported: path: no Path (a Path the client
  did not ask for would make the registrar refuse it, RFC 3327 5.2);
- a client not behind a NAT (it writes 127.0.0.3, its own address) with
  Supported: path: no Path, sipd need not stay on its path.
Against a sipd that adds no Path for NATed clients the first check
fails."""

import sipdtest
import sipua
from sipdtest import Sipd, check
from sipua import UA, new_tag


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


def test(binary, started):
    sipd = Sipd(binary)
    started.append(sipd)
    sipd.start()
    registrar = UA("127.0.0.5")
    nated = NatUA("127.0.0.2", "10.0.0.5")
    plain = UA("127.0.0.3")
    try:
        got = register(sipd, nated, registrar, True)
        path = got.get("Path")
        check(path == ["<sip:127.0.0.1:%d;lr>" % sipd.port],
              "Path of a NATed client's REGISTER at the registrar: %r "
              "(want sipd's <sip:127.0.0.1:%d;lr>)" % (path, sipd.port))
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

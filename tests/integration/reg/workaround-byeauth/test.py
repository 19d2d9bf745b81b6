"""Workaround badByeAuth, on the wire (sipd.conf(5), Workarounds).

alice@example.com sends an in-dialog BYE to bob (a UA on the loopback)
through sipd, which trusts no address (no client-ip): a local From must
authenticate, so the BYE gets 407.  Her devices ("User-Agent: Acme Phone
1.0") have badByeAuth; what each answer to the challenge gets:

- digest computed with method INVITE: bob receives the BYE, and sipd
  logs the variant "method INVITE";
- the same credentials again (same nonce count): 407, bob gets nothing
  (replay protection still applies);
- uri= the dialog's initial Request-URI (the To URI), digest over it:
  bob receives the BYE ("initial Request-URI");
- a wrong password computed with INVITE: 407, nothing for bob;
- the INVITE digest from "User-Agent: Other Phone" (no workaround): 407;
- a right digest: bob receives the BYE (no variant logged)."""

import sipdtest
import sipreg
from sipdtest import check, new_tag
from sipua import UA, silence

CONF = """domain add example.com
account add alice@example.com password al1ce-pw
workaround product add "Acme*" badByeAuth
"""


class Bye:
    def __init__(self, alice, bob):
        self.alice, self.bob = alice, bob
        self.call_id = "%s@byeauth" % new_tag()
        self.from_tag, self.to_tag = new_tag(), new_tag()
        self.ruri = "sip:bob@127.0.0.1:%d" % bob.port
        self.cseq = 1

    def message(self, ua, auth=None):
        self.cseq += 1
        hdrs = [("Via", self.alice.via("z9hG4bK%s%s" % (new_tag(),
                                                        new_tag()))),
                ("Max-Forwards", "70"),
                ("From", "<sip:alice@example.com>;tag=%s" % self.from_tag),
                ("To", "<sip:bob@example.com>;tag=%s" % self.to_tag),
                ("Call-ID", self.call_id),
                ("CSeq", "%d BYE" % self.cseq),
                ("User-Agent", ua)]
        if auth:
            hdrs.append(("Proxy-Authorization", auth))
        hdrs.append(("Content-Length", "0"))
        text = "BYE %s SIP/2.0\r\n" % self.ruri
        text += "".join("%s: %s\r\n" % h for h in hdrs) + "\r\n"
        return text.encode()


def answer(sipd, bye, data):
    """Send data; the final response alice gets (bob answers 200)."""
    bye.alice.send(data, sipd.port)
    for m in bye.alice.collect(silence()):
        if not m.is_request() and m.status >= 200:
            return m.status, []
    got = [m for m in bye.bob.collect(0.3) if m.is_request()]
    for m in got:
        bye.bob.respond(m, 200)
    bye.alice.collect(0.2)
    return 200 if got else None, got


def test(binary, started):
    sipd = sipreg.start(binary, started, conf=CONF, client_ip=[])
    alice, bob = UA(), UA()
    try:
        bye = Bye(alice, bob)
        alice.send(bye.message("Acme Phone 1.0"), sipd.port)
        first = alice.expect("407", lambda m: (
            not m.is_request() and m.status == 407), 3)
        ch = sipreg.pick(first, "MD5", "Proxy-Authenticate")
        to_uri = "sip:bob@example.com"

        def cred(method, uri, nc, password="al1ce-pw"):
            return sipreg.credentials(ch, "alice", password, method, uri,
                                      nc=nc, cnonce="c0ffee%02d" % nc)

        invite1 = cred("INVITE", bye.ruri, 1)
        st, got = answer(sipd, bye, bye.message("Acme Phone 1.0", invite1))
        check(got and got[0].method == "BYE",
              "INVITE-method digest: alice got %r, bob %r" % (st, got))
        check(sipd.wait_log("(badByeAuth: method INVITE)"),
              "variant not logged")
        st, got = answer(sipd, bye, bye.message("Acme Phone 1.0", invite1))
        check(st == 407 and not got, "replay: %r, bob %r" % (st, got))
        st, got = answer(sipd, bye, bye.message(
            "Acme Phone 1.0", cred("BYE", to_uri, 2)))
        check(got and got[0].method == "BYE",
              "initial Request-URI digest: %r, bob %r" % (st, got))
        check(sipd.wait_log("(badByeAuth: initial Request-URI)"),
              "variant not logged")
        st, got = answer(sipd, bye, bye.message(
            "Acme Phone 1.0", cred("INVITE", bye.ruri, 3, "wrong")))
        check(st == 407 and not got, "wrong password: %r, bob %r" % (
            st, got))
        st, got = answer(sipd, bye, bye.message(
            "Other Phone", cred("INVITE", bye.ruri, 4)))
        check(st == 407 and not got, "no workaround: %r, bob %r" % (
            st, got))
        before = sipd.log().count("badByeAuth:")
        st, got = answer(sipd, bye, bye.message(
            "Other Phone", cred("BYE", bye.ruri, 5)))
        check(got and got[0].method == "BYE", "right digest: %r" % st)
        check(sipd.log().count("badByeAuth:") == before,
              "a right digest logged as a variant")
    finally:
        alice.close()
        bob.close()
    check(sipd.alive(), "sipd died")
    sipdtest.stop_clean(sipd)


sipdtest.run(test)

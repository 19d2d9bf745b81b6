"""Message waiting (RFC 3842 over RFC 6665): sipd the notifier of its
accounts, the counts from "sipctl mwi set" (sipd.conf(5), Message
waiting; sipctl(8), mwi).

sipd trusts 127.0.0.1 (client-ip) and no other address.

- sipp on 127.0.0.1 subscribes to alice's message summary: 200 with
  Expires and sipd's Contact, then a NOTIFY (Event, Subscription-State
  active, application/simple-message-summary "Messages-Waiting: no",
  "Voice-Message: 0/0 (0/0)"); "mwi set alice 3 5 1 2" gives a NOTIFY
  with "Messages-Waiting: yes" and "Voice-Message: 3/5 (1/2)"; its
  unsubscribe (Expires: 0, in the dialog) gets 200 and a last NOTIFY,
  terminated.  After it, "mwi set" sends nothing there.
- From 127.0.0.2 (not a client): SUBSCRIBE gets 401; authenticated as
  alice, 200 and NOTIFYs (the From's epid= kept in the 200's From and
  the NOTIFYs' To, the Event's id= in theirs); authenticated as bob for alice, 403; for
  nobody@example.com (no account), 404 after authentication; to sipd's
  address with Event: presence, 489 with Allow-Events: message-summary;
  one requiring an extension, 420; an in-dialog SUBSCRIBE with a To tag
  sipd never gave, 481.  Nothing of
  these is stored ("mwi show").
- A subscription of 2 s: NOTIFY at once, a last one when it expires
  (terminated;reason=timeout), none after.
- NoSubMWI: a device with "User-Agent: Acme Phone 1.0" (products table:
  NoSubMWI needsEpid) registers with ";epid=f00d" in its From and
  receives a NOTIFY without subscribing, its To carrying epid=f00d; one
  with "User-Agent: Beta Phone" (NoSubMWI alone) gets one without epid;
  "Plain 1" gets none.  "mwi set" notifies the first two; once Acme
  unregisters, it gets nothing more.
- Bad input to the commands: an unknown account, one urgent count alone,
  more urgent messages than messages; each is refused, nothing changes.
- The counts survive a restart."""

import os
import time

import sipdtest
import sipreg
from sipdtest import check, new_tag
from sipua import UA, Sipp, free_port, param, silence

HERE = os.path.dirname(os.path.abspath(__file__))
CONF = """domain add example.com
account add alice@example.com password al1ce-pw
account add bob@example.com password b0b-pw
account add carol@example.com password car0l-pw
account add dave@example.com password d4ve-pw
workaround product add "Acme Phone*" NoSubMWI needsEpid
workaround product add "Beta*" nosubmwi
"""


def ctl(sipd, *args):
    return sipreg.ctl(sipd, *args)


def refused(sipd, want, *args):
    p = sipdtest.sipctl(sipd, *args)
    check(p.returncode != 0, "%r accepted" % (args,))
    check(want in p.stderr, "%r: %r lacks %r" % (args, p.stderr, want))


def show(sipd, account=None):
    rows = ctl(sipd, "mwi", "show", *([account] if account else []))
    return {r["account"]: r for r in rows}


class Sub:
    """A SUBSCRIBE client on ua for user's message summary."""

    def __init__(self, ua, sipd, user, ruri=None, event="message-summary",
                 expires=300):
        self.ua, self.sipd = ua, sipd
        self.user = user
        self.ruri = ruri or "sip:%s@example.com" % user
        self.event = event
        self.expires = expires
        self.call_id = "%s@mwi" % new_tag()
        self.from_tag = new_tag()
        self.to_tag = None
        self.epid = None
        self.cseq = 0

    def send(self, auth=None, expires=None, uri=None, extra=()):
        self.cseq += 1
        hdrs = [("Via", self.ua.via("z9hG4bK%s%s" % (new_tag(), new_tag()))),
                ("Max-Forwards", "70"),
                ("From", "<sip:%s@example.com>;tag=%s%s" % (
                    self.user, self.from_tag,
                    ";epid=%s" % self.epid if self.epid else "")),
                ("To", "<sip:%s@example.com>%s" % (
                    self.user, ";tag=%s" % self.to_tag if self.to_tag
                    else "")),
                ("Call-ID", self.call_id),
                ("CSeq", "%d SUBSCRIBE" % self.cseq),
                ("Contact", "<%s>" % self.ua.uri(self.user)),
                ("Event", self.event),
                ("Expires", str(self.expires if expires is None
                                else expires))]
        if auth:
            hdrs.append(("Authorization", auth))
        hdrs += list(extra)
        hdrs.append(("Content-Length", "0"))
        text = "SUBSCRIBE %s SIP/2.0\r\n" % (uri or self.ruri)
        text += "".join("%s: %s\r\n" % h for h in hdrs) + "\r\n"
        self.ua.send(text.encode(), self.sipd.port)
        return self.ua.expect("response to SUBSCRIBE %d" % self.cseq,
                              lambda m: (not m.is_request() and
                                         m.status >= 200 and
                                         m.call_id() == self.call_id and
                                         m.cseq()[0] == self.cseq), 3)

    def authenticated(self, user, password, **kw):
        r = self.send(**kw)
        check(r.status == 401, "SUBSCRIBE without credentials: %d" %
              r.status)
        ch = sipreg.pick(r, "MD5")
        auth = sipreg.credentials(ch, user, password, "SUBSCRIBE",
                                  kw.get("uri") or self.ruri)
        return self.send(auth=auth, **kw)


def notify(ua, call_id=None, timeout=3):
    """The next NOTIFY ua receives (answered 200)."""
    m = ua.expect_request("NOTIFY", call_id, timeout)
    ua.respond(m, 200)
    return m


def quiet(ua, what):
    got = [m for m in ua.collect(silence()) if m.is_request()]
    check(not got, "%s: got %r" % (what, got))


def summary(m):
    return m.body.decode()


def check_notify(m, sub_state, waiting, voice, event="message-summary"):
    check(m.first("Event") == event,
          "NOTIFY Event %r" % m.first("Event"))
    check((m.first("Subscription-State") or "").startswith(sub_state),
          "NOTIFY Subscription-State %r, not %s" % (
              m.first("Subscription-State"), sub_state))
    check(m.first("Content-Type") == "application/simple-message-summary",
          "NOTIFY Content-Type %r" % m.first("Content-Type"))
    # sipp's trace keeps no CR: the lines, however they end
    body = summary(m)
    lines = body.replace("\r\n", "\n").split("\n")
    check("Messages-Waiting: %s" % waiting in lines and
          any(ln.startswith("Voice-Message: %s" % voice) for ln in lines),
          "NOTIFY body %r, not %s %s" % (body, waiting, voice))


def sipp_subscriber(sipd):
    port = free_port()
    trace = os.path.join(sipd.dir.name, "sipp-mwi.log")
    run = Sipp(sipd.dir.name, "mwi", [
        "-sf", os.path.join(HERE, "subscribe.xml"),
        "127.0.0.1:%d" % sipd.port, "-i", "127.0.0.1", "-p", str(port),
        "-s", "alice", "-key", "domain", "example.com", "-m", "1",
        "-timeout", "20s", "-trace_msg", "-message_file", trace])
    try:
        sipreg.wait_for("alice's subscription", lambda: show(
            sipd, "alice@example.com")["alice@example.com"][
                "subscriptions"] == 1, 5.0, 0.05)
        ctl(sipd, "mwi", "set", "alice@example.com", "3", "5", "1", "2")
        rc = run.wait(25)
    finally:
        run.kill()
    check(rc == 0, "sipp exited %d:\n%s" % (rc, run.output()[-2000:]))
    got = sipreg.sipp_trace(trace)
    ok = [w.msg for w in got if w.way == "in" and w.msg.status == 200]
    check(ok and ok[0].first("Expires") == "300" and
          (ok[0].first("Contact") or "").startswith("<sip:127.0.0.1:%d" %
                                                    sipd.port),
          "the 200 to sipp: %r" % ok[:1])
    n = [w.msg for w in got if w.way == "in" and w.msg.method == "NOTIFY"]
    check(len(n) == 3, "sipp got %d NOTIFYs" % len(n))
    check_notify(n[0], "active", "no", "0/0 (0/0)")
    check_notify(n[1], "active", "yes", "3/5 (1/2)")
    check_notify(n[2], "terminated", "yes", "3/5 (1/2)")
    check(param(n[0].first("From"), "tag") == param(ok[0].first("To"), "tag"),
          "NOTIFY From tag is not the 200's To tag")
    check([m.cseq()[0] for m in n] == sorted({m.cseq()[0] for m in n}),
          "NOTIFY CSeqs %r do not go up" % [m.cseq() for m in n])
    # unsubscribed: nothing more there
    dev = UA()
    dev.sock.close()
    import socket
    dev.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    dev.sock.bind(("127.0.0.1", port))
    dev.port = port
    try:
        ctl(sipd, "mwi", "set", "alice@example.com", "4", "5")
        quiet(dev, "after the unsubscribe")
    finally:
        dev.close()


def strangers(sipd):
    ua = UA("127.0.0.2")
    try:
        s = Sub(ua, sipd, "alice", event="message-summary;id=7")
        s.epid = "c0ffee"
        r = s.authenticated("alice", "al1ce-pw")
        check(r.status == 200, "alice's SUBSCRIBE as alice: %d" % r.status)
        check(param(r.first("From"), "epid") == "c0ffee",
              "the 200's From %r lost the epid" % r.first("From"))
        s.to_tag = param(r.first("To"), "tag")
        m = notify(ua, s.call_id)
        check_notify(m, "active;expires=", "yes", "4/5 (0/0)",
                     "message-summary;id=7")
        check(param(m.first("To"), "epid") == "c0ffee" and
              param(m.first("To"), "tag") == s.from_tag,
              "the NOTIFY's To %r is not the SUBSCRIBE's From" %
              m.first("To"))
        ctl(sipd, "mwi", "set", "alice@example.com", "0", "6")
        check_notify(notify(ua, s.call_id), "active", "no", "0/6 (0/0)",
                     "message-summary;id=7")
        r = s.send(expires=0, uri="sip:127.0.0.1:%d" % sipd.port)
        check(r.status == 200, "unsubscribe: %d" % r.status)
        check_notify(notify(ua, s.call_id), "terminated", "no", "0/6",
                     "message-summary;id=7")

        before = show(sipd)
        r = Sub(ua, sipd, "alice").authenticated("bob", "b0b-pw")
        check(r.status == 403, "alice's summary as bob: %d" % r.status)
        r = Sub(ua, sipd, "nobody").authenticated("bob", "b0b-pw")
        check(r.status == 404, "nobody's summary: %d" % r.status)
        r = Sub(ua, sipd, "alice", ruri="sip:127.0.0.1:%d" % sipd.port,
                event="presence").send()
        check(r.status == 489 and
              r.first("Allow-Events") == "message-summary",
              "presence to sipd: %d %r" % (r.status,
                                           r.first("Allow-Events")))
        r = Sub(ua, sipd, "alice").send(extra=[("Require", "x-foo")])
        check(r.status == 420 and r.first("Unsupported") == "x-foo",
              "Require: x-foo: %d %r" % (r.status, r.first("Unsupported")))
        s = Sub(ua, sipd, "alice")
        s.to_tag = "5d" + "0" * 22
        r = s.send(uri="sip:127.0.0.1:%d" % sipd.port)
        check(r.status == 481, "a dialog sipd never made: %d" % r.status)
        quiet(ua, "after refused SUBSCRIBEs")
        check(show(sipd) == before, "refused SUBSCRIBEs changed %r" %
              show(sipd))

        # a subscription of 2 s: a last NOTIFY when it expires (within
        # the second sipd checks them), then nothing
        s = Sub(ua, sipd, "alice", expires=2)
        r = s.authenticated("alice", "al1ce-pw")
        check(r.status == 200 and r.first("Expires") == "2",
              "short subscription: %d %r" % (r.status, r.first("Expires")))
        notify(ua, s.call_id)
        t0 = time.monotonic()
        m = notify(ua, s.call_id, 4)
        check(m.first("Subscription-State") == "terminated;reason=timeout"
              and time.monotonic() - t0 >= 1.0,
              "at expiry: %r after %.1f s" % (
                  m.first("Subscription-State"), time.monotonic() - t0))
        ctl(sipd, "mwi", "set", "alice@example.com", "1", "6")
        quiet(ua, "after the subscription expired")
    finally:
        ua.close()


def register(ua, sipd, user, password, product, epid=None, expires=300):
    reg = sipreg.RegClient(ua, sipd.port, user, password)
    if epid:
        reg.from_tag = "%s;epid=%s" % (reg.from_tag, epid)
    ok = reg.register([reg.contact()], expires,
                      extra=[("User-Agent", product)])
    check(ok.status == 200, "REGISTER of %s: %d" % (user, ok.status))
    return reg


def implicit(sipd):
    acme, beta, plain = UA(), UA(), UA()
    try:
        ctl(sipd, "mwi", "set", "carol@example.com", "2", "0")
        reg = register(acme, sipd, "carol", "car0l-pw", "Acme Phone 1.0",
                       epid="f00d")
        m = notify(acme)
        check_notify(m, "active", "yes", "2/0 (0/0)")
        check(param(m.first("To"), "epid") == "f00d",
              "Acme's NOTIFY To %r lacks epid=f00d" % m.first("To"))
        register(beta, sipd, "dave", "d4ve-pw", "Beta Phone", epid="beef")
        m = notify(beta)
        check(param(m.first("To"), "epid") is None,
              "Beta's NOTIFY To %r has an epid" % m.first("To"))
        register(plain, sipd, "bob", "b0b-pw", "Plain 1")
        quiet(plain, "a device without NoSubMWI")
        check(show(sipd, "carol@example.com")["carol@example.com"]["implicit"] == 1,
              "carol's implicit subscription not listed")

        ctl(sipd, "mwi", "set", "carol@example.com", "3", "0", "1", "0")
        check_notify(notify(acme), "active", "yes", "3/0 (1/0)")
        ctl(sipd, "mwi", "set", "bob@example.com", "1", "0")
        quiet(plain, "bob's change")

        ok = reg.register([reg.contact()], 0,
                          extra=[("User-Agent", "Acme Phone 1.0")])
        check(ok.status == 200, "unregister: %d" % ok.status)
        ctl(sipd, "mwi", "set", "carol@example.com", "4", "0")
        quiet(acme, "after the binding went")
    finally:
        for ua in (acme, beta, plain):
            ua.close()


def test(binary, started):
    sipd = sipreg.RegSipd(binary, conf=CONF, client_ip=["127.0.0.1/32"])
    started.append(sipd)
    sipd.start()
    before = show(sipd)
    refused(sipd, "no account nobody@example.com", "mwi", "set",
            "nobody@example.com", "1", "2")
    refused(sipd, "both urgent counts", "mwi", "set", "alice@example.com", "1", "2",
            "1")
    refused(sipd, "more urgent messages than messages", "mwi", "set",
            "alice@example.com", "1", "2", "2", "0")
    check(show(sipd) == before, "refused commands changed %r" % show(sipd))

    sipp_subscriber(sipd)
    strangers(sipd)
    implicit(sipd)

    sipd.stop()
    sipd.start()
    row = show(sipd, "alice@example.com")["alice@example.com"]
    check((row["new"], row["old"]) == (1, 6),
          "alice's counts after a restart: %r" % row)
    check(sipd.alive(), "sipd died")
    sipdtest.stop_clean(sipd)


sipdtest.run(test)

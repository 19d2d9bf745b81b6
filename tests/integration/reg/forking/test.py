"""Forking to a user's bindings (RFC 3261 16.6, 16.7; q values 10.2.1.2).

carol has three contacts, each registered from its own socket: A and B
with q=1.0, C with q=0.5.  An INVITE to carol rings A and B in parallel
and not C; when both answer 486, C gets it (serially, the lower q); C's
486 comes back to the caller.  A second INVITE: A answers 200, B gets a
CANCEL, C nothing, the caller the 200.  Then a third-party registration
(a contact that is not the REGISTER's source, RFC 3261 10.2.1): a
request to that user goes to the contact.  Python user agents only."""

import sipdtest
import sipreg
from sipdtest import Fail, check
from sipua import UA, Call, sipdata, silence

CONF = """domain add example.com
account add carol@example.com password c4rol-pw
account add dave@example.com password d4ve-pw
"""


def register(sipd, ua, user, password, q):
    reg = sipreg.RegClient(ua, sipd.port, user, password)
    ok = reg.register([reg.contact(params=";q=%s" % q)], 300)
    check(ok.status == 200, "REGISTER of %s q=%s: %d" % (user, q, ok.status))
    return reg


def no_request(ua, method, duration, what):
    for m in ua.collect(duration):
        check(not (m.is_request() and m.method == method),
              "%s got %s: %s" % (what, method, m.start))


def invite(uac, sipd):
    call = Call(uac, "sip:carol@example.com")
    uac.send(call.request("INVITE"), sipd.port)
    return call


def ringing_parallel(sipd, uac, a, b, c):
    call = invite(uac, sipd)
    ia = a.expect_request("INVITE", call.call_id, 3)
    ib = b.expect_request("INVITE", call.call_id, 3)
    no_request(c, "INVITE", silence(), "the q=0.5 contact (before A and B "
               "answered)")
    a.respond(ia, 486)
    b.respond(ib, 486)
    ic = c.expect_request("INVITE", call.call_id, 3)
    c.respond(ic, 486)
    final = uac.expect(
        "final response to the INVITE",
        lambda m: (not m.is_request() and m.status >= 200 and
                   m.call_id() == call.call_id), 5)
    check(final.status == 486, "caller got %d after three 486, not 486" %
          final.status)
    uac.send(call.ack(final), sipd.port)


def cancel_others(sipd, uac, a, b, c):
    call = invite(uac, sipd)
    ia = a.expect_request("INVITE", call.call_id, 3)
    ib = b.expect_request("INVITE", call.call_id, 3)
    # B rings: a CANCEL waits for a provisional response (RFC 3261 9.1)
    b.respond(ib, 180, to_tag="bbbb2222")
    a.respond(ia, 180, to_tag="aaaa1111")
    a.respond(ia, 200, to_tag="aaaa1111")
    cancel = b.expect_request("CANCEL", call.call_id, 3)
    check(cancel.branch() == ib.branch(),
          "CANCEL's branch %s is not the INVITE's %s" % (cancel.branch(),
                                                         ib.branch()))
    b.respond(cancel, 200)
    b.respond(ib, 487, to_tag="bbbb2222")
    ok = uac.expect(
        "200 to the INVITE",
        lambda m: (not m.is_request() and m.status == 200 and
                   m.call_id() == call.call_id), 5)
    uac.send(call.ack(ok), sipd.port)
    no_request(c, "INVITE", silence(), "the q=0.5 contact (A answered 200)")
    others = [m for m in uac.collect(silence()) if not m.is_request() and
              m.call_id() == call.call_id and m.status >= 300]
    check(not others, "caller got %s after the 200" % others)


def third_party(sipd, uac):
    """dave registered from one socket with the contact of another."""
    reg_ua, dave = UA(), UA()
    try:
        reg = sipreg.RegClient(reg_ua, sipd.port, "dave", "d4ve-pw")
        contact = "<sip:dave@127.0.0.1:%d>" % dave.port
        ok = reg.register([contact], 300)
        check(ok.status == 200, "third-party REGISTER: %d" % ok.status)
        call = Call(uac, "sip:dave@example.com")
        uac.send(call.request("INVITE"), sipd.port)
        m = dave.recv(3)
        if m is None or m.method != "INVITE":
            sent = [lm.peer for lm in sipdata(sipd.log())
                    if lm.way == "out" and lm.msg.method == "INVITE" and
                    lm.msg.call_id() == call.call_id]
            raise Fail("INVITE to dave did not reach his contact 127.0.0.1:"
                       "%d (registered from 127.0.0.1:%d); sipd sent it to "
                       "%s" % (dave.port, reg_ua.port, sent))
        check(m.uri == "sip:dave@127.0.0.1:%d" % dave.port,
              "INVITE to dave with Request-URI %s" % m.uri)
        dave.respond(m, 486)
        final = uac.expect(
            "final response", lambda r: (not r.is_request() and
                                         r.status >= 200 and
                                         r.call_id() == call.call_id), 5)
        uac.send(call.ack(final), sipd.port)
    finally:
        reg_ua.close()
        dave.close()


def test(binary, started):
    sipd = sipreg.start(binary, started, conf=CONF)
    uac, a, b, c = UA(), UA(), UA(), UA()
    try:
        register(sipd, a, "carol", "c4rol-pw", "1.0")
        register(sipd, b, "carol", "c4rol-pw", "1.0")
        register(sipd, c, "carol", "c4rol-pw", "0.5")
        rows = sipreg.registrations(sipd, "carol@example.com")
        check(sorted(r["q"] for r in rows) == ["0.5", "1", "1"],
              "carol's bindings: %s" % rows)
        ringing_parallel(sipd, uac, a, b, c)
        cancel_others(sipd, uac, a, b, c)
        third_party(sipd, uac)
    finally:
        for ua in (uac, a, b, c):
            ua.close()
    check(sipd.alive(), "sipd died")
    sipdtest.stop_clean(sipd)


sipdtest.run(test)

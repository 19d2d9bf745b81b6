"""A registrar in memory only (set reg-durable off): no store, bindings
lost at a restart.

alice registers with Digest (MD5, qop=auth, computed here) from a UA
socket: the 200 lists her contact with ;expires=300, and "show
registrations" the binding.  An OPTIONS from another UA to
sip:alice@example.com reaches the contact's socket (it answers 200, which
comes back to the caller).  Neither the configured store (set
reg-store) nor its journals exist in sipd's directory: nothing was
written.  sipd is stopped and started again on the same configuration:
"show registrations" is empty, an OPTIONS to alice gets a final
response that is not 2xx and her old contact receives nothing; still no
store file.  "set reg-durable on" at run time is listed by "show
settings" as pending, the registrar still in memory.  A sipd without
the setting refuses the configuration and does not start (the test
fails there)."""

import os

import sipdtest
import sipreg
from sipdtest import check
from sipua import UA, Call, silence

CONF = """domain add example.com
account add alice@example.com password al1ce-pw
set reg-durable off
"""


def store_files(sipd):
    """Files of a registration store in sipd's directory: the configured
    one (reg.db), the test library's default (registrations.db), their
    journals."""
    return sorted(f for f in os.listdir(sipd.dir.name)
                  if f.startswith("reg.db") or
                  f.startswith("registrations.db"))


def options(sipd, uac):
    call = Call(uac, "sip:alice@example.com")
    uac.send(call.request("OPTIONS"), sipd.port)
    return call


def final(uac, call):
    return uac.expect(
        "final response to the OPTIONS",
        lambda m: (not m.is_request() and m.status >= 200 and
                   m.call_id() == call.call_id), 5)


def test(binary, started):
    sipd = sipreg.start(binary, started, conf=CONF)
    check(sipd.store and os.path.basename(sipd.store) == "reg.db",
          "the test names a store")
    dev, uac = UA(), UA()
    try:
        settings = {s["setting"]: s["value"]
                    for s in sipreg.ctl(sipd, "show", "settings")}
        check(settings.get("reg-durable") is False,
              "show settings: reg-durable %r, not false" %
              settings.get("reg-durable"))

        reg = sipreg.RegClient(dev, sipd.port, "alice", "al1ce-pw")
        contact = "sip:alice@127.0.0.1:%d" % dev.port
        ok = reg.register(["<%s>" % contact], 300)
        check(ok.status == 200, "REGISTER with Digest: %d %s, not 200" % (
            ok.status, ok.reason))
        exp = sipreg.expires_of(ok)
        check(contact in exp and 290 <= exp[contact] <= 300,
              "200 lists %s, not %s;expires=300" % (exp, contact))
        rows = sipreg.registrations(sipd, "alice@example.com")
        check([r["contact"] for r in rows] == [contact],
              "show registrations alice@example.com: %s" % rows)

        call = options(sipd, uac)
        got = dev.expect_request("OPTIONS", call.call_id, 3)
        check(got.uri == contact, "OPTIONS reached the contact as %s, "
              "not for %s" % (got.start, contact))
        dev.respond(got, 200)
        resp = final(uac, call)
        check(resp.status == 200, "caller got %d, not the contact's 200" %
              resp.status)
        check(store_files(sipd) == [], "a memory-only registrar wrote %s" %
              store_files(sipd))

        # set at run time, reg-durable waits for the next start: "show
        # settings" gives what is in force and what is pending
        for want, value, pending in (("on", False, "on"),
                                     ("off", False, "")):
            sipreg.ctl(sipd, "set", "reg-durable", want)
            row = [s for s in sipreg.ctl(sipd, "show", "settings")
                   if s["setting"] == "reg-durable"][0]
            check(row["value"] is value and row["pending"] == pending,
                  "after set reg-durable %s: value %r pending %r, not %r "
                  "pending %r" % (want, row["value"], row["pending"], value,
                                  pending))

        sipdtest.stop_clean(sipd)
        sipd.start()
        rows = sipreg.registrations(sipd)
        check(rows in (None, []), "after a restart, %d bindings listed: %s"
              % (len(rows), rows))
        call = options(sipd, uac)
        resp = final(uac, call)
        check(resp.status >= 300, "OPTIONS to alice after a restart: %d, "
              "not a failure" % resp.status)
        for m in dev.collect(silence()):
            check(not m.is_request(), "the lost binding's contact got %s" %
                  m.start)
        check(store_files(sipd) == [], "a memory-only registrar wrote %s "
              "after a restart" % store_files(sipd))
    finally:
        dev.close()
        uac.close()
    check(sipd.alive(), "sipd died")
    sipdtest.stop_clean(sipd)


sipdtest.run(test)

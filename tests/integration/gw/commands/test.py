"""`gateway register`, `gateway unregister` and `gateway set` on a live
registration, seen from a sipp registrar requiring Digest:

- register-every 0: no REGISTER is sent, `show gateways` says
  unregistered; `gateway register P1` registers once now (Expires 3600);
- `gateway unregister P1` sends Expires 0 and the state is unregistered;
- with register-every 30 and registered, `gateway set P1 contact bob`
  removes the old binding (Expires 0, Contact alice) before registering
  the new Contact (bob);
- `gateway register NOPE` gets "no gateway" (exit 1).
The old sipd knows no gateway command."""

import os
import sys
import tempfile
import time

import sipdtest
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))
import gwlib  # noqa: E402
from sipdtest import check, sipctl  # noqa: E402


def ctl(sipd, *args):
    p = sipctl(sipd, *args)
    check(p.returncode == 0, "%s: %r" % (" ".join(args), p.stderr))


def new_regs(prov, n, want, timeout=5):
    """The REGISTERs after the first n, once want(list) holds."""
    deadline = time.monotonic() + timeout
    got = []
    while time.monotonic() < deadline:
        got = prov.received("REGISTER")[n:]
        if want(got):
            return got
        time.sleep(0.1)
    check(False, "REGISTERs after %d: %s" % (n, [
        (r.first("Expires"), r.first("Contact")) for r in got]))


def test(binary, started):
    work = tempfile.TemporaryDirectory(prefix="gw-commands-")
    prov = gwlib.Provider(work.name, "registrar", "registrar.xml", 20,
                          sets=(("gwuser", "gw"), ("gwpass", "pw"),
                                ("expires", 3600)))
    try:
        sipd = sipdtest.Sipd(binary, conf=(
            "domain add example.com\n"
            "account add alice@example.com password a\n"
            "account add bob@example.com password b\n"
            "gateway add P1 domain p.test via 127.0.0.2:%d username gw "
            "password pw contact alice\n" % prov.port))
        started.append(sipd)
        sipd.start()
        time.sleep(1.5)
        check(prov.received("REGISTER") == [], "register-every 0 sent a "
              "REGISTER")
        check(gwlib.show(sipd)["P1"]["state"] == "unregistered",
              "state before: %s" % gwlib.show(sipd)["P1"])
        ctl(sipd, "gateway", "register", "P1")
        gwlib.wait_state(sipd, "P1", ("registered",), 5)
        check(prov.received("REGISTER")[0].first("Expires") == "3600",
              "the REGISTER by command asked %s" %
              prov.received("REGISTER")[0].first("Expires"))
        n = len(prov.received("REGISTER"))
        ctl(sipd, "gateway", "unregister", "P1")
        new_regs(prov, n, lambda g: any(r.first("Expires") == "0"
                                        for r in g))
        gwlib.wait_state(sipd, "P1", ("unregistered",), 5)

        ctl(sipd, "gateway", "set", "P1", "register-every", "30")
        ctl(sipd, "gateway", "register", "P1")
        gwlib.wait_state(sipd, "P1", ("registered",), 5)
        n = len(prov.received("REGISTER"))
        ctl(sipd, "gateway", "set", "P1", "contact", "bob")
        got = new_regs(prov, n, lambda g: any(
            "sip:bob@" in (r.first("Contact") or "") and
            r.first("Expires") == "30" for r in g))
        unreg = [i for i, r in enumerate(got) if r.first("Expires") == "0"
                 and "sip:alice@" in r.first("Contact")]
        bob = [i for i, r in enumerate(got)
               if "sip:bob@" in (r.first("Contact") or "")]
        check(unreg and unreg[0] < bob[0], "the old Contact was not "
              "removed before the new one: %s" % [
                  (r.first("Expires"), r.first("Contact")) for r in got])
        gwlib.wait_state(sipd, "P1", ("registered",), 5)
        p = sipctl(sipd, "gateway", "register", "NOPE")
        check(p.returncode == 1 and "no gateway" in p.stderr,
              "register NOPE: %d %r" % (p.returncode, p.stderr))
        sipdtest.stop_clean(sipd)
    finally:
        prov.stop()


sipdtest.run(test)

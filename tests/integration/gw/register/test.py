"""Registration with a provider that requires Digest (RFC 3261 10.2,
RFC 7616), seen from the provider: a sipp registrar on 127.0.0.2
(registrar.xml) that challenges every REGISTER with a fresh nonce and
checks the answer with verifyauth.  The gateway P1 (domain
provider.test, via the registrar's address, username gwuser, password
gwpass, register-every 2, contact alice):

- the first REGISTER goes to the Via address with Request-URI
  sip:provider.test, To and From sip:gwuser@provider.test, Expires 2,
  Contact sip:alice@127.0.0.1:PORT (sipd's address toward it), no
  credentials; the 401 is answered at once with Authorization
  username="gwuser", qop=auth, nc=00000001, and the registrar's
  verifyauth takes it (200, not 403);
- it refreshes every 2 s: the same Call-ID, CSeq going up, each refresh
  starting with the last nonce and the next nonce count;
- `show gateways -j` says registered, last status 200, the target
  "udp 127.0.0.2:PORT", a nonce age;
- `gateway remove P1` sends a REGISTER with Expires 0 (answered through
  the challenge too) and the gateway leaves the list;
- with a wrong password the registrar's 403 stops it: state failed,
  last status 403, no REGISTER after;
- stopping sipd sends a REGISTER with Expires 0.
The old sipd has no gateway command: the configuration does not load."""

import os
import sys
import tempfile
import time

import sipdtest
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))
import gwlib  # noqa: E402
from sipdtest import check


def conf(prov, password="gwpass"):
    return ("domain add example.com\n"
            "account add alice@example.com password alice-pw\n"
            "gateway add P1 domain provider.test via 127.0.0.2:%d "
            "username gwuser password %s register-every 2 contact alice\n"
            % (prov.port, password))


def test(binary, started):
    work = tempfile.TemporaryDirectory(prefix="gw-register-")
    prov = gwlib.Provider(work.name, "registrar", "registrar.xml", 20,
                          sets=(("gwuser", "gwuser"), ("gwpass", "gwpass"),
                                ("expires", 60)))
    try:
        sipd = sipdtest.Sipd(binary, conf=conf(prov))
        started.append(sipd)
        sipd.start()
        regs = prov.wait_requests("REGISTER", 6, 10)
        first, answer = regs[0], regs[1]
        check(first.uri == "sip:provider.test", "Request-URI %s" %
              first.uri)
        for h in ("From", "To"):
            check("<sip:gwuser@provider.test>" in first.first(h),
                  "%s %s" % (h, first.first(h)))
        check(first.first("Expires") == "2", "Expires %s" %
              first.first("Expires"))
        check(first.first("Contact") == "<sip:alice@127.0.0.1:%d>" %
              sipd.port, "Contact %s" % first.first("Contact"))
        check(first.first("Authorization") is None,
              "the first REGISTER carried credentials")
        a = gwlib.auth_params(answer.first("Authorization") or "")
        check(a.get("username") == "gwuser" and a.get("qop") == "auth" and
              a.get("nc") == "00000001" and
              a.get("realm") == "provider.test",
              "the answer to the 401: %s" % answer.first("Authorization"))
        check(len({r.call_id() for r in regs}) == 1,
              "the Call-ID changed: %s" % [r.call_id() for r in regs])
        cseqs = [r.cseq()[0] for r in regs]
        check(cseqs == sorted(set(cseqs)), "CSeq not increasing: %s" %
              cseqs)
        # a refresh starts with the last nonce, the next count
        refresh = gwlib.auth_params(regs[2].first("Authorization") or "")
        check(refresh.get("nonce") == a.get("nonce") and
              refresh.get("nc") == "00000002",
              "the refresh's credentials: %s" %
              regs[2].first("Authorization"))
        row = gwlib.wait_state(sipd, "P1", ("registered",), 5)
        check(row["last-status"] == 200 and row["until"] and
              row["target"] == "udp 127.0.0.2:%d" % prov.port and
              row["nonce-age"] >= 0, "show gateways: %s" % row)

        n = len(prov.received("REGISTER"))
        p = sipdtest.sipctl(sipd, "gateway", "remove", "P1")
        check(p.returncode == 0, "gateway remove: %s" % p.stderr)
        deadline = time.monotonic() + 5
        unreg = []
        while not unreg and time.monotonic() < deadline:
            unreg = [r for r in prov.received("REGISTER")[n:]
                     if r.first("Expires") == "0"]
            time.sleep(0.1)
        check(unreg, "no REGISTER with Expires 0 after gateway remove")
        check(gwlib.show(sipd) == {}, "P1 still listed")
        sipdtest.stop_clean(sipd)
        started.remove(sipd)

        # a wrong password: the provider's 403 ends it
        sipd = sipdtest.Sipd(binary, conf=conf(prov, "wrong"))
        started.append(sipd)
        sipd.start()
        row = gwlib.wait_state(sipd, "P1", ("failed",), 5)
        check(row["last-status"] == 403, "after a 403: %s" % row)
        n = len(prov.received("REGISTER"))
        time.sleep(2.5)
        check(len(prov.received("REGISTER")) == n,
              "REGISTERs went on after a 403")
        check(sipd.wait_log("gateway P1, failed"), "no log line saying "
              "P1 failed")
        sipdtest.stop_clean(sipd)
        started.remove(sipd)

        # shutting down removes the registration
        sipd = sipdtest.Sipd(binary, conf=conf(prov))
        started.append(sipd)
        sipd.start()
        gwlib.wait_state(sipd, "P1", ("registered",), 5)
        n = len(prov.received("REGISTER"))
        sipdtest.stop_clean(sipd)
        unreg = [r for r in prov.received("REGISTER")[n:]
                 if r.first("Expires") == "0"]
        check(unreg, "no REGISTER with Expires 0 when sipd stopped")
    finally:
        prov.stop()


sipdtest.run(test)

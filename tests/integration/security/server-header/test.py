"""sipd does not tell strangers its version (sipd.conf(5), set
server-header).  On the wire, from a peer that is not a client:

- by default every response carries "Server: sipd" and the version
  ("sipd -V") appears nowhere in it: an OPTIONS answer, a 401 challenge
  and the 200 of an authenticated REGISTER;
- "set server-header none" (live, through sipctl): no Server header;
- "set server-header 'Acme SBC/2 (edge)'": that text, verbatim;
- a value with a control character, a CR LF, or 129 bytes is refused
  (sipctl exits 1, "bad Server header") and the header stays as it was;
- "show settings" and "show config" say what is in force.
"""

import json
import subprocess

import sipdtest
import sipreg
from sipdtest import Peer, Sipd, check, request, sipctl
from sipua import UA

CUSTOM = "Acme SBC/2 (edge)"


def options(sipd):
    peer = Peer()
    try:
        r = peer.ask(request("OPTIONS", sipd.port), sipd.port)
    finally:
        peer.close()
    check(r is not None and r.status == 200, "OPTIONS: %r" % r)
    return r


def register(sipd):
    """The 401 and the 200 of one registration of alice."""
    ua = UA()
    try:
        reg = sipreg.RegClient(ua, sipd.port, "alice", "alice-pw")
        first = reg.challenge([reg.contact()], expires=60)
        check(first.status == 401, "REGISTER: %d" % first.status)
        final = reg.register([reg.contact()], expires=60)
        check(final.status == 200, "REGISTER: %d" % final.status)
    finally:
        ua.close()
    return first, final


def test(binary, started):
    version = subprocess.run([binary, "-V"], stdout=subprocess.PIPE,
                             text=True, timeout=10).stdout.split()[-1]
    sipd = Sipd(binary, clients=False, conf="domain add example.com\n"
                "account add alice@example.com password alice-pw\n")
    started.append(sipd)
    sipd.start()

    r = options(sipd)
    check(r.get("Server") == ["sipd"], "OPTIONS Server %r" %
          r.get("Server"))
    check(version.encode() not in r.raw, "the version %s is sent:\n%r" %
          (version, r.raw))
    for m in register(sipd):
        check(m.get("Server") == ["sipd"], "REGISTER %d Server %r" %
              (m.status, m.get("Server")))
        check(version.encode() not in m.raw, "the version %s is sent in a "
              "%d" % (version, m.status))

    p = sipctl(sipd, "set", "server-header", "none")
    check(p.returncode == 0, "set server-header none: %r" % p.stderr)
    check(options(sipd).get("Server") == [], "a Server header after none")
    for m in register(sipd):
        check(m.get("Server") == [], "REGISTER %d has a Server header" %
              m.status)
    p = sipctl(sipd, "show", "config")
    check("set server-header none\n" in p.stdout, "show config:\n%s" %
          p.stdout)

    p = sipctl(sipd, "set", "server-header", CUSTOM)
    check(p.returncode == 0, "set server-header custom: %r" % p.stderr)
    check(options(sipd).get("Server") == [CUSTOM], "custom Server")
    for m in register(sipd):
        check(m.get("Server") == [CUSTOM], "REGISTER %d Server %r" %
              (m.status, m.get("Server")))

    for bad in ("a\x01b", "x\r\nX-Injected: 1", "x" * 129, " lead"):
        p = sipctl(sipd, "set", "server-header", bad)
        check(p.returncode == 1 and "bad Server header" in p.stderr,
              "%r accepted: %d %r" % (bad, p.returncode, p.stderr))
    r = options(sipd)
    check(r.get("Server") == [CUSTOM] and b"X-Injected" not in r.raw,
          "after refused values: %r" % r.get("Server"))
    p = sipctl(sipd, "-j", "show", "settings")
    rows = {r["setting"]: r for r in json.loads(p.stdout)["data"]}
    check(rows["server-header"]["value"] == CUSTOM and
          rows["server-header"]["default"] == "sipd" and
          rows["server-header"]["changed"], "show settings: %r" % p.stdout)
    p = sipctl(sipd, "show", "config")
    check('set server-header "Acme SBC/2 (edge)"\n' in p.stdout,
          "show config:\n%s" % p.stdout)
    sipdtest.stop_clean(sipd)


sipdtest.run(test)

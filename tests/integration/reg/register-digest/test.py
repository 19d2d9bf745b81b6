"""Registration with Digest authentication by real clients.

The 401 to a REGISTER without credentials carries one challenge per
algorithm, SHA-256 first then MD5, realm the domain's name, qop="auth"
(RFC 7616, RFC 8760 2.4).  sipp registers with MD5 (register.xml, its
[authentication] keyword; sipp 3.6.1 has no SHA-256, so that one is done
here in Python) and gets the 200 listing its Contact with ;expires=.
sipsak registers (-U) a contact where a Python UA listens, then sends
a MESSAGE to the user, which sipd delivers there; the UA's 200 comes
back to sipsak.
Skipped without sipp or sipsak."""

import os
import shutil
import subprocess

import sipdtest
import sipreg
from sipdtest import Fail, Skip, check, free_udp_port
from sipua import Sipp, UA, sipdata

HERE = os.path.dirname(os.path.abspath(__file__))
CONF = """domain add example.com
domain alias add example.com localhost
account add alice@example.com password secret
account add bob@example.com password bob-pw-2
account add carol@example.com password c4rol
"""


def check_challenge(resp):
    """The 401's WWW-Authenticate lines: SHA-256, then MD5."""
    check(resp.status == 401, "REGISTER without credentials: %d, not 401"
          % resp.status)
    chs = sipreg.challenges(resp)
    algs = [p.get("algorithm", "MD5").upper() for _, p in chs]
    check(algs[:2] == ["SHA-256", "MD5"],
          "401 challenges %s, not SHA-256 then MD5" %
          resp.get("WWW-Authenticate"))
    for scheme, p in chs[:2]:
        check(scheme == "Digest", "challenge scheme %r" % scheme)
        check(p.get("realm") == "example.com", "realm %r, not example.com"
              % p.get("realm"))
        check("auth" in p.get("qop", "").split(","), "qop %r without auth"
              % p.get("qop"))
        check(p.get("nonce"), "challenge without a nonce")


def python_sha256(sipd):
    """A SHA-256 registration, and an MD5 one, from Python."""
    ua = UA()
    try:
        reg = sipreg.RegClient(ua, sipd.port, "carol", "c4rol")
        check_challenge(reg.challenge([reg.contact()], 120))
        for alg in ("SHA-256", "MD5"):
            ok = reg.register([reg.contact()], 120, alg=alg)
            check(ok.status == 200, "%s REGISTER answered %d %s" % (
                alg, ok.status, ok.reason))
            exp = sipreg.expires_of(ok)
            uri = "sip:carol@127.0.0.1:%d" % ua.port
            check(uri in exp and 110 <= exp[uri] <= 120,
                  "%s: 200 lists %s, not %s;expires=120" % (alg, exp, uri))
    finally:
        ua.close()


def sipp_md5(sipd):
    """sipp registers with MD5.  sipp 3.6.1 reads only the first
    challenge and refuses SHA-256, so it talks to sipd through a relay
    that drops the SHA-256 challenge (sipreg.MD5Only)."""
    sipp_port = free_udp_port()
    relay = sipreg.MD5Only(sipd.port)
    try:
        run = Sipp(sipd.dir.name, "register", [
            "-sf", os.path.join(HERE, "register.xml"),
            "127.0.0.1:%d" % relay.port, "-i", "127.0.0.1",
            "-p", str(sipp_port), "-s", "alice", "-au", "alice",
            "-ap", "secret", "-auth_uri", "example.com",
            "-key", "domain", "example.com", "-m", "1", "-timeout", "15s"])
        rc = run.wait(30)
    finally:
        relay.close()
    check(rc == 0, "sipp REGISTER exited %d:\n%s" % (rc,
                                                     run.output()[-3000:]))
    contact = "sip:alice@127.0.0.1:%d" % sipp_port
    peer = "127.0.0.1:%d" % relay.back_port
    oks = [lm.msg for lm in sipdata(sipd.log())
           if lm.way == "out" and lm.peer == peer and lm.msg.status == 200]
    check(oks, "no 200 sent to sipp (through %s)" % peer)
    exp = sipreg.expires_of(oks[-1])
    check(contact in exp and 290 <= exp[contact] <= 300,
          "200 to sipp lists %s, not %s;expires=300" % (exp, contact))
    got = sipreg.registrations(sipd, "alice@example.com")
    check([r["contact"] for r in got] == [contact],
          "show registrations alice@example.com: %s" % got)
    r = got[0]
    check(r["source"] == peer and r["transport"] == "udp" and
          r["user-agent"] == "sipp-register-test" and
          290 <= r["expires"] <= 300 and r["aor"] == "alice@example.com",
          "binding listed as %s" % r)
    print("sipp 3.6.1 has no SHA-256 Digest: that part is the Python "
          "client's")


def sipsak(sipd, args, timeout=30):
    path = shutil.which("sipsak")
    if path is None:
        raise Skip("sipsak not installed")
    return subprocess.Popen([path] + args, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)


def finish(p, what, timeout=30):
    try:
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, _ = p.communicate(timeout=5)
    out = out.decode("utf-8", "replace")
    if p.returncode != 0:
        print(out[-4000:])
    check(p.returncode == 0, "%s exited %d" % (what, p.returncode))
    return out


def sipsak_message(sipd):
    """sipsak -U registers bob with a contact where a Python UA listens;
    then sipsak sends a MESSAGE to bob (-f, a file: sipsak 0.9.8's -M
    crashes in sprintf before sending anything) and gets the UA's 200
    back through sipd.  sipsak resolves the URI's host itself:
    "localhost" (a domain alias here) with a port needs no DNS.  sipsak
    0.9.8 refuses a SHA-256 first challenge: it registers through
    sipreg.MD5Only."""
    ua = UA()
    # sipsak 0.9.8 cuts the fifth digit off a port: four-digit ports
    local = free_udp_port("127.0.0.1", 2000, 9999)
    relay = sipreg.MD5Only(sipd.port, free_udp_port("127.0.0.1", 2000, 9999))
    contact = "sip:bob@127.0.0.1:%d" % ua.port
    try:
        p = sipsak(sipd, ["-U", "-vv", "-i",
                          "-s", "sip:bob@localhost:%d" % relay.port,
                          "-p", "127.0.0.1:%d" % relay.port, "-a", "bob-pw-2",
                          "-u", "bob", "-l", str(local), "-H", "127.0.0.1",
                          "-C", contact, "-x", "60"])
        finish(p, "sipsak -U")
    finally:
        relay.close()
    got = sipreg.contacts_of(sipd, "bob@example.com")
    check(got == [contact], "bob's contacts after sipsak -U: %s" % got)
    path = os.path.join(sipd.dir.name, "message.sip")
    with open(path, "w") as f:
        f.write("MESSAGE sip:bob@localhost SIP/2.0\n"
                "From: <sip:sipsak@localhost>;tag=5a5a\n"
                "To: <sip:bob@localhost>\n"
                "Call-ID: sipsak-message-1@127.0.0.1\n"
                "CSeq: 1 MESSAGE\n"
                "Max-Forwards: 70\n"
                "Content-Type: text/plain\n"
                "Content-Length: 9\n\n"
                "hello bob")
    try:
        p = sipsak(sipd, ["-vv", "-f", path, "-l", str(local),
                          "-H", "127.0.0.1",
                          "-s", "sip:bob@localhost:%d" % sipd.port])
        try:
            msg = ua.recv(5)
            if msg is None or msg.method != "MESSAGE":
                p.kill()  # instead of its 32 s of retransmissions
                sent = [lm.peer for lm in sipdata(sipd.log())
                        if lm.way == "out" and lm.msg.method == "MESSAGE"]
                raise Fail("the MESSAGE to bob did not reach his contact "
                           "127.0.0.1:%d (got %r); sipd sent it to %s" % (
                               ua.port, msg, sorted(set(sent))))
            check(msg.uri == contact, "MESSAGE delivered to %s, not %s" % (
                msg.uri, contact))
            check(msg.body == b"hello bob", "MESSAGE body %r" % msg.body)
            ua.respond(msg, 200)
        finally:
            out = finish(p, "sipsak -f message")
        check("200 OK" in out, "sipsak saw no 200 to its MESSAGE:\n" + out)
    finally:
        ua.close()


def test(binary, started):
    if shutil.which("sipp") is None:
        raise Skip("sipp not installed")
    sipd = sipreg.start(binary, started, conf=CONF + "set reg-min-expires 10",
                        port_range=(2000, 9999))
    python_sha256(sipd)
    sipp_md5(sipd)
    sipsak_message(sipd)
    check(sipd.alive(), "sipd died")
    sipdtest.stop_clean(sipd)


sipdtest.run(test)

"""Registration with Digest authentication by real clients, talking to
sipd directly.

The 401 to a REGISTER without credentials carries one challenge per
algorithm offered, realm the domain's name, qop="auth" (RFC 7616), in the
order sipd.conf(5) gives:
- by default MD5 alone (auth-sha256 off): a SHA-256 answer is refused;
- with auth-sha256 on, MD5 then SHA-256 (auth-sha256-first off);
- with auth-sha256-first on, SHA-256 then MD5 (RFC 8760 2.4), whether
  set in the file at start or live with sipctl, and back again.
Each order is read from the 401 the Python client received, and the
client (which computes SHA-256 and MD5) registers with each algorithm.
sipp 3.6.1 reads only the first challenge and knows only MD5: it
registers (register.xml, its [authentication] keyword) against the MD5
first order, and its own message trace (-trace_msg) must hold the 200
listing its Contact with ;expires=.  sipsak registers (-U) a contact
where a Python UA listens, then sends a MESSAGE to the user, which sipd
delivers there; the UA's 200 comes back to sipsak.
Skipped without sipp or sipsak (a failure when CI=true)."""

import os
import shutil
import subprocess

import sipdtest
import sipreg
from sipdtest import Fail, Skip, check, free_udp_port
from sipua import Sipp, UA

HERE = os.path.dirname(os.path.abspath(__file__))
CONF = """domain add example.com
domain alias add example.com localhost
account add alice@example.com password secret
account add bob@example.com password bob-pw-2
account add carol@example.com password c4rol
"""


def check_challenge(resp, algs):
    """The 401's WWW-Authenticate lines: Digest for algs, in that order."""
    check(resp.status == 401, "REGISTER without credentials: %d, not 401"
          % resp.status)
    got = sipreg.challenge_algs(resp)
    check(got == algs, "401 challenges %s, not %s" % (
        resp.get("WWW-Authenticate"), " then ".join(algs)))
    for scheme, p in sipreg.challenges(resp):
        check(scheme == "Digest", "challenge scheme %r" % scheme)
        check(p.get("realm") == "example.com", "realm %r, not example.com"
              % p.get("realm"))
        check("auth" in p.get("qop", "").split(","), "qop %r without auth"
              % p.get("qop"))
        check(p.get("nonce"), "challenge without a nonce")


def python_register(sipd, algs, refused=()):
    """The Python client reads the challenges (algs, in order) and
    registers with each; an answer in an algorithm of refused (computed
    over the offered challenge's nonce) gets a 401 again."""
    ua = UA()
    try:
        reg = sipreg.RegClient(ua, sipd.port, "carol", "c4rol")
        check_challenge(reg.challenge([reg.contact()], 120), algs)
        for alg in algs:
            ok = reg.register([reg.contact()], 120, alg=alg)
            check(ok.status == 200, "%s REGISTER answered %d %s" % (
                alg, ok.status, ok.reason))
            exp = sipreg.expires_of(ok)
            uri = "sip:carol@127.0.0.1:%d" % ua.port
            check(uri in exp and 110 <= exp[uri] <= 120,
                  "%s: 200 lists %s, not %s;expires=120" % (alg, exp, uri))
        for alg in refused:
            first = reg.challenge([reg.contact()], 120)
            ch = dict(sipreg.pick(first, algs[0]), algorithm=alg)
            auth = sipreg.credentials(ch, "carol", "c4rol", "REGISTER",
                                      reg.uri, alg)
            again = reg.ask(reg.message([reg.contact()], 120, auth))
            check(again.status == 401, "a %s answer, not offered: %d, "
                  "not 401" % (alg, again.status))
    finally:
        ua.close()


def sipp_md5(sipd):
    """sipp registers with MD5 against sipd's MD5 first order (sipp 3.6.1
    reads only the first challenge); its own trace shows the 200."""
    sipp_port = free_udp_port()
    trace = os.path.join(sipd.dir.name, "sipp-register.log")
    run = Sipp(sipd.dir.name, "register", [
        "-sf", os.path.join(HERE, "register.xml"),
        "127.0.0.1:%d" % sipd.port, "-i", "127.0.0.1",
        "-p", str(sipp_port), "-s", "alice", "-au", "alice",
        "-ap", "secret", "-auth_uri", "example.com",
        "-key", "domain", "example.com", "-m", "1", "-timeout", "15s",
        "-trace_msg", "-message_file", trace])
    rc = run.wait(30)
    check(rc == 0, "sipp REGISTER exited %d:\n%s" % (rc,
                                                     run.output()[-3000:]))
    contact = "sip:alice@127.0.0.1:%d" % sipp_port
    got = sipreg.sipp_trace(trace)
    chs = [w.msg for w in got if w.way == "in" and w.msg.status == 401]
    check(chs and sipreg.challenge_algs(chs[0])[0] == "MD5",
          "sipp was not challenged with MD5 first: %s" % (
              [m.get("WWW-Authenticate") for m in chs]))
    oks = [w.msg for w in got if w.way == "in" and w.msg.status == 200]
    check(len(oks) == 1, "sipp received %d 200s, not one" % len(oks))
    exp = sipreg.expires_of(oks[0])
    check(contact in exp and 290 <= exp[contact] <= 300,
          "200 to sipp lists %s, not %s;expires=300" % (exp, contact))
    got = sipreg.registrations(sipd, "alice@example.com")
    check([r["contact"] for r in got] == [contact],
          "show registrations alice@example.com: %s" % got)
    r = got[0]
    check(r["source"] == "127.0.0.1:%d" % sipp_port and
          r["transport"] == "udp" and
          r["user-agent"] == "sipp-register-test" and
          290 <= r["expires"] <= 300 and r["aor"] == "alice@example.com",
          "binding listed as %s" % r)


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
    0.9.8 knows only MD5: it registers against sipd's default."""
    ua = UA()
    # sipsak 0.9.8 cuts the fifth digit off a port: four-digit ports
    local = free_udp_port("127.0.0.1", 2000, 9999)
    contact = "sip:bob@127.0.0.1:%d" % ua.port
    p = sipsak(sipd, ["-U", "-vv", "-i",
                      "-s", "sip:bob@localhost:%d" % sipd.port,
                      "-a", "bob-pw-2",
                      "-u", "bob", "-l", str(local), "-H", "127.0.0.1",
                      "-C", contact, "-x", "60"])
    finish(p, "sipsak -U")
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
                raise Fail("the MESSAGE to bob did not reach his contact "
                           "127.0.0.1:%d (got %r)" % (ua.port, msg))
            check(msg.uri == contact, "MESSAGE delivered to %s, not %s" % (
                msg.uri, contact))
            check(msg.body == b"hello bob", "MESSAGE body %r" % msg.body)
            ua.respond(msg, 200)
        finally:
            out = finish(p, "sipsak -f message")
        check("200 OK" in out, "sipsak saw no 200 to its MESSAGE:\n" + out)
    finally:
        ua.close()


def missing(tool):
    """A tool that is not installed: a skip, or a failure when CI=true."""
    if os.environ.get("CI") == "true":
        raise Fail("%s not installed (CI=true)" % tool)
    raise Skip("%s not installed" % tool)


def test(binary, started):
    for tool in ("sipp", "sipsak"):
        if shutil.which(tool) is None:
            missing(tool)
    # the default: MD5 alone
    sipd = sipreg.start(binary, started, conf=CONF + "set reg-min-expires 10",
                        port_range=(2000, 9999))
    python_register(sipd, ["MD5"], refused=["SHA-256"])
    sipsak_message(sipd)
    check(sipd.alive(), "sipd died")
    sipdtest.stop_clean(sipd)

    # SHA-256 offered, after MD5; then first, and back, set live
    sipd = sipreg.start(binary, started,
                        conf=CONF + "set auth-sha256 on\n"
                        "set reg-min-expires 10")
    python_register(sipd, ["MD5", "SHA-256"])
    sipp_md5(sipd)
    sipreg.ctl(sipd, "set", "auth-sha256-first", "on")
    python_register(sipd, ["SHA-256", "MD5"])
    sipreg.ctl(sipd, "set", "auth-sha256-first", "off")
    python_register(sipd, ["MD5", "SHA-256"])
    check(sipd.alive(), "sipd died")
    sipdtest.stop_clean(sipd)

    # SHA-256 first from the file, on every worker
    sipd = sipreg.start(binary, started,
                        conf=CONF + "set auth-sha256 on\n"
                        "set auth-sha256-first on\n"
                        "set reg-min-expires 10", workers=2)
    for _ in range(4):
        python_register(sipd, ["SHA-256", "MD5"])
    check(sipd.alive(), "sipd died")
    sipdtest.stop_clean(sipd)


sipdtest.run(test)

"""Certificates reloaded mid-call (sipd.8, "Reloading").

sipd listens on TLS with certificate "first" (files cert.pem, key.pem).
A UAC over TLS calls a UDP UAS through sipd (force-rr on) and the UAS
rings.  The files are replaced in place by certificate "second" and
"sipctl tls reload" loads them: openssl s_client now sees CN=second.
The UAS answers; the 200 reaches the UAC on its TLS connection from
before the reload, and its ACK and BYE, sent on that connection, reach
the UAS; the BYE's 200 comes back.  A certificate file that is not a
certificate: "sipctl tls reload" exits 1 naming the file, s_client still
sees CN=second; SIGHUP with it logs FILE:LINE of the listener line and
s_client still sees CN=second; a good "third" then loads on SIGHUP.
The old sipd had no "tls reload" (and SIGHUP kept the first
certificate).  Skipped without openssl (failed under CI)."""

import os
import re
import shutil
import signal
import ssl
import subprocess
import tempfile

import sipdtest
import sipua
from sipdtest import Skip, check


def make_cert(workdir, name):
    cert = os.path.join(workdir, name + ".crt")
    key = os.path.join(workdir, name + ".key")
    p = subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
         "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=" + name,
         "-addext", "subjectAltName=IP:127.0.0.1"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, timeout=60)
    check(p.returncode == 0, "openssl req: %s" % p.stdout)
    return cert, key


def install(src, dst):
    """Replace dst by src's content in place, as a renewal does."""
    tmp = dst + ".new"
    shutil.copyfile(src, tmp)
    os.rename(tmp, dst)


def served(port):
    """The CN of the certificate a new handshake gets (openssl s_client)."""
    p = subprocess.run(
        ["openssl", "s_client", "-connect", "127.0.0.1:%d" % port,
         "-servername", "localhost"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, timeout=15, text=True)
    m = re.search(r"subject=.*?CN\s*=\s*([\w-]+)", p.stdout)
    return m.group(1) if m else None


def test(binary, started):
    if shutil.which("openssl") is None:
        raise Skip("openssl not installed")
    sipdtest.sipctl_binary()
    with tempfile.TemporaryDirectory(prefix="sipdtest-") as work:
        certs = {n: make_cert(work, n) for n in ("first", "second", "third")}
        cert = os.path.join(work, "cert.pem")
        key = os.path.join(work, "key.pem")
        install(certs["first"][0], cert)
        install(certs["first"][1], key)
        sipd = sipua.start_proxy(binary, started, tls=(cert, key),
                                 conf=lambda s: "set force-rr on")
        check(served(sipd.tls_port) == "first", "not serving 'first'")

        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(certs["first"][0])
        ctx.check_hostname = False
        uac = sipua.StreamUA(ctx=ctx, connect=("127.0.0.1", sipd.tls_port))
        uas = sipua.UA()
        try:
            call = sipua.Call(uac, uas.uri("uas"))
            uac.send(call.request("INVITE"))
            invite = uas.expect_request("INVITE", call.call_id)
            uas.respond(invite, 180, to_tag="uastag")
            uac.expect_response(180, call)

            # renewed in place while the call rings
            install(certs["second"][0], cert)
            install(certs["second"][1], key)
            p = sipdtest.sipctl(sipd, "tls", "reload")
            print("tls reload: exit %d, %r %r" % (p.returncode, p.stdout,
                                                   p.stderr))
            check(p.returncode == 0 and cert in p.stdout,
                  "tls reload failed: %r %r" % (p.stdout, p.stderr))
            check(served(sipd.tls_port) == "second",
                  "a new handshake does not get 'second'")

            # the call, on its connection from before, completes
            uas.respond(invite, 200, to_tag="uastag")
            ok = uac.expect_response(200, call)
            uac.send(call.ack(ok))
            uas.expect_request("ACK", call.call_id)
            routes = list(reversed(ok.get("Record-Route")))
            bye = call.request("BYE", uri=uas.uri("uas"),
                               to=ok.first("To"),
                               extra=[("Route", r) for r in routes])
            uac.send(bye)
            req = uas.expect_request("BYE", call.call_id)
            uas.respond(req, 200)
            uac.expect_response(200, call, method="BYE")
        finally:
            uac.close()
            uas.close()

        # a bad certificate: refused, the one in force stays
        with open(cert, "w") as f:
            f.write("not a certificate\n")
        p = sipdtest.sipctl(sipd, "tls", "reload")
        print("tls reload (bad): exit %d, %r" % (p.returncode, p.stderr))
        check(p.returncode == 1 and cert in p.stderr,
              "a bad certificate: %r" % p.stderr)
        check(served(sipd.tls_port) == "second",
              "a bad certificate replaced the one in force")
        os.kill(sipd.proc.pid, signal.SIGHUP)
        with open(sipd.conf_path) as f:
            line = [i + 1 for i, t in enumerate(f.read().splitlines())
                    if t.startswith("listener add tls")][0]
        want = "%s:%d: tls, cannot load certificate %s" % (
            os.path.realpath(sipd.conf_path), line, cert)
        check(sipd.wait_log(want, 5.0), "SIGHUP: no %r in the log" % want)
        check(served(sipd.tls_port) == "second",
              "SIGHUP with a bad certificate replaced the one in force")

        # a good one on SIGHUP
        install(certs["third"][0], cert)
        install(certs["third"][1], key)
        os.kill(sipd.proc.pid, signal.SIGHUP)
        check(sipd.wait_log("configuration reloaded", 5.0), "no reload")
        check(served(sipd.tls_port) == "third",
              "SIGHUP did not load 'third'")
        check(sipd.alive(), "sipd died")
        sipdtest.stop_clean(sipd)


sipdtest.run(test)

"""A sips: name over TLS (RFC 3263 4.1, RFC 5922 4): sips:bob@t.example.test
has an SRV record _sips._tcp -> 127.0.0.2, where a TLS UAS presents a
certificate for the name t.example.test only (no address in it).  sipd
checks the certificate against the name it resolved, not the address:
the MESSAGE reaches the UAS over TLS and its 200 comes back.  The same
certificate at another port under the name w.example.test, which it does
not name, is refused: the UAC gets a 5xx and that UAS no request.  Checking the
address instead (the certificate has none) fails the first case.
Skipped (failed under CI) without openssl or dnsmasq."""

import os
import shutil
import ssl
import subprocess
import tempfile

import dnsmasq
import sipdtest
import sipua
from sipdtest import Skip, check


def cert_for(workdir, name):
    openssl = shutil.which("openssl")
    if openssl is None:
        raise Skip("openssl not installed")
    cert = os.path.join(workdir, "name.pem")
    key = os.path.join(workdir, "name.key")
    p = subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes",
         "-keyout", key, "-out", cert, "-days", "2", "-subj",
         "/CN=%s" % name, "-addext", "subjectAltName=DNS:%s" % name],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, timeout=60)
    check(p.returncode == 0, "openssl req failed: %s" % p.stdout)
    return cert, key


def final(uac, call):
    return uac.expect("a final response", lambda m: (
        not m.is_request() and m.status >= 200 and
        m.call_id() == call.call_id), 8.0)


def test(binary, started):
    with tempfile.TemporaryDirectory(prefix="sipdtest-") as workdir:
        cert, key = cert_for(workdir, "t.example.test")
        own_cert, own_key = sipua.self_signed(workdir)
        server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server.load_cert_chain(cert, key)
        uac = sipua.UA()
        uas = sipua.StreamUA("127.0.0.2", server)
        # another port: a connection open to the first is reused as it is
        other = sipua.StreamUA("127.0.0.2", server)
        records = [
            "--srv-host=_sips._tcp.t.example.test,a.example.test,%d,10,0"
            % uas.port,
            "--srv-host=_sips._tcp.w.example.test,a.example.test,%d,10,0"
            % other.port,
            "--host-record=a.example.test,127.0.0.2",
        ]
        try:
            with dnsmasq.Dnsmasq(records) as dns:
                sipd = sipua.start_proxy(
                    binary, started, tcp=True, tls=(own_cert, own_key),
                    conf=lambda s: "dns server %s\nset tls-client-ca %s" %
                    (dns.addr, cert))
                c = sipua.Call(uac, "sips:bob@t.example.test")
                uac.send(c.request("MESSAGE"), sipd.port)
                msg = uas.expect_request("MESSAGE", c.call_id, timeout=5.0)
                check(isinstance(msg.conn, ssl.SSLSocket), "not over TLS")
                uas.respond(msg, 200)
                r = final(uac, c)
                check(r.status == 200, "the MESSAGE got %d" % r.status)
                c = sipua.Call(uac, "sips:bob@w.example.test")
                uac.send(c.request("MESSAGE"), sipd.port)
                got, r = [], None
                for _ in range(50):  # the UAS reads: its handshake runs
                    try:
                        got += [m for m in other.collect(0.1)
                                if m.is_request()]
                    except (ssl.SSLError, OSError):
                        pass  # sipd gave up the handshake: expected
                    r = uac.recv(0.1)
                    if r is not None and not r.is_request() and \
                            r.status >= 200:
                        break
                check(r is not None and r.status >= 500,
                      "a certificate for another name was taken: %s" % r)
                check(got == [], "the UAS got %s" % got)
        finally:
            uac.close()
            uas.close()
    sipdtest.stop_clean(sipd)


sipdtest.run(test)

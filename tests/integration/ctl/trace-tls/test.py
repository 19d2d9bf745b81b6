"""trace sees TLS messages decrypted: while "sipctl -j trace" runs, a
Python client sends an OPTIONS to sipd over TLS and reads the 200.  The
trace holds the OPTIONS (in) and the 200 (out), transport "tls", between
sipd's TLS port and the client's, each exactly the bytes the client sent
and received.  Skipped without openssl (failed under CI)."""

import json
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time

import sipdtest
import sipua
from sipdtest import Skip, check, sipctl


def test(binary, started):
    if shutil.which("openssl") is None:
        raise Skip("openssl not installed")
    with tempfile.TemporaryDirectory(prefix="sipdtest-") as workdir:
        cert, key = sipua.self_signed(workdir)
        sipd = sipua.start_proxy(binary, started, tls=(cert, key))
        proc = subprocess.Popen([sipdtest.sipctl_binary(), "-s",
                                 sipd.sock_path, "-j", "trace"],
                                stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL, text=True)
        try:
            for _ in range(50):
                p = sipctl(sipd, "-j", "status")
                if json.loads(p.stdout)["data"].get("tracers") == 1:
                    break
                time.sleep(0.1)
            else:
                raise sipdtest.Fail("the trace did not start")
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.load_verify_locations(cert)
            ctx.check_hostname = False
            raw = socket.create_connection(("127.0.0.1", sipd.tls_port),
                                           timeout=5)
            with ctx.wrap_socket(raw) as s:
                cport = s.getsockname()[1]
                req = ("OPTIONS sip:ping@127.0.0.1:%d SIP/2.0\r\n"
                       "Via: SIP/2.0/TLS 127.0.0.1:%d;branch=z9hG4bK%s\r\n"
                       "Max-Forwards: 70\r\n"
                       "From: <sip:t@127.0.0.1>;tag=%s\r\n"
                       "To: <sip:ping@127.0.0.1>\r\n"
                       "Call-ID: %s@trace-tls\r\n"
                       "CSeq: 1 OPTIONS\r\n"
                       "Content-Length: 0\r\n\r\n" % (
                           sipd.tls_port, cport, sipdtest.new_tag(),
                           sipdtest.new_tag(), sipdtest.new_tag())).encode()
                s.sendall(req)
                buf = b""
                deadline = time.monotonic() + 5
                while time.monotonic() < deadline:
                    data, rest = sipua.frame(buf)
                    if data is not None:
                        break
                    buf += s.recv(65536)
                check(data is not None and data.startswith(b"SIP/2.0 200"),
                      "no 200 over TLS: %r" % buf[:200])
            time.sleep(0.3)
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=5)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        msgs = [json.loads(line)["data"] for line in out.splitlines()
                if json.loads(line).get("ev") == "msg"]
        mine = [m for m in msgs if m["remote-port"] == cport]
        check([(m["dir"], m["transport"], m["local-port"]) for m in mine] ==
              [("in", "tls", sipd.tls_port), ("out", "tls", sipd.tls_port)],
              "TLS trace %r" % [(m["dir"], m["transport"]) for m in mine])
        check(mine[0]["data"].encode() == req and
              mine[1]["data"].encode() == data, "TLS bytes differ")
        sipdtest.stop_clean(sipd)


sipdtest.run(test)

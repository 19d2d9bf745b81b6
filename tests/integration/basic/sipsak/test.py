"""A real SIP peer: sipsak sends an OPTIONS and must get its 200.
Skipped when sipsak is not installed."""

import shutil
import subprocess

import sipdtest
from sipdtest import Sipd, Skip, check


def test(binary, started):
    sipsak = shutil.which("sipsak")
    if sipsak is None:
        raise Skip("sipsak not installed")
    # sipsak 0.9.8 cuts the fifth digit off a port in the URI: use four
    sipd = Sipd(binary, port_range=(2000, 9999))
    started.append(sipd)
    sipd.start()
    uri = "sip:ping@127.0.0.1:%d" % sipd.port
    p = subprocess.run([sipsak, "-vv", "-s", uri], stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=30)
    out = p.stdout.decode("utf-8", "replace")
    print(out)
    check(p.returncode == 0, "sipsak exited %d" % p.returncode)
    check("200 OK" in out, "sipsak saw no 200 OK")
    sipdtest.stop_clean(sipd)


sipdtest.run(test)

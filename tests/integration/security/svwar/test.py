"""An svwar scan (SIPVicious, Debian's sipvicious) finds no extension.

sipd with no client-ip; example.com with the accounts 1000 to 1003,
alice and bob; 1001 is registered from 127.0.0.4, where a device answers
every INVITE 486 and everything else 200.  svwar scans extensions 1001
to 1005 and 995 to 1000, and a dictionary (1001, alice, bob, admin,
carol), with REGISTER,
OPTIONS and INVITE, --force (past its check that an unknown extension
already gets a challenge) and without.  svwar writes From and To as the
extension in the scanned domain, so its requests carry a local From.
Every scan must end "found nothing", no extension reported.  (svwar stops
at the first answer it cannot place, and a 407 for every extension is
one: so each list starts with the registered extension, the one whose
answer would differ.)  Against sipd 0.1.0 the INVITE and OPTIONS scans reported 1001 (the request
reached the device, whose answer differs from the unknown extension's
407).  A missing svwar skips the test, and fails it when CI=true.
"""

import os
import shutil
import subprocess
import threading

import sipdtest
import sipreg
from sipdtest import Fail, Skip, check
from sipua import UA

CONF = """domain add example.com
account add 1000@example.com password p1000
account add 1001@example.com password p1001
account add 1002@example.com password p1002
account add 1003@example.com password p1003
account add alice@example.com password secret
account add bob@example.com password b0b-pw
"""


def svwar_binary():
    for name in ("sipvicious_svwar", "svwar"):
        path = shutil.which(name)
        if path:
            return path
    if os.environ.get("CI") == "true":
        raise Fail("svwar (Debian package sipvicious) is missing")
    raise Skip("svwar (Debian package sipvicious) is not installed")


class Device:
    """The registered device: answers until stopped (bounded)."""

    def __init__(self, ua):
        self.ua = ua
        self.stop = threading.Event()
        self.got = []
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        for _ in range(100000):
            if self.stop.is_set():
                return
            m = self.ua.recv(0.1)
            if m is None or not m.is_request() or m.method == "ACK":
                continue
            self.got.append(m.start)
            self.ua.respond(m, 486 if m.method == "INVITE" else 200)

    def close(self):
        self.stop.set()
        self.thread.join(5)


def scan(svwar, sipd, workdir, method, force):
    words = os.path.join(workdir, "words.txt")
    with open(words, "w") as f:
        f.write("1001\nalice\nbob\nadmin\ncarol\n")
    local = sipdtest.free_udp_port("127.0.0.3")
    out = []
    for extra in (["-e", "1001-1005,995-1000"], ["-d", words]):
        cmd = [svwar, "-p", str(sipd.port), "-b", "127.0.0.3",
               "-P", str(local), "--domain", "example.com", "-m", method,
               "-t", "0.02", "--maximumtime", "2"] + extra + \
              (["--force"] if force else []) + ["127.0.0.1"]
        p = subprocess.run(cmd, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=60,
                           stdin=subprocess.DEVNULL, cwd=workdir)
        out.append((" ".join(cmd[1:]), p.returncode, p.stdout))
    return out


def test(binary, started):
    svwar = svwar_binary()
    sipd = sipreg.start(binary, started, client_ip=[], conf=CONF)
    ua = UA("127.0.0.4")
    device = None
    found = []
    try:
        reg = sipreg.RegClient(ua, sipd.port, "1001", "p1001")
        r = reg.register([reg.contact()], 300)
        check(r.status == 200, "REGISTER of 1001: %d" % r.status)
        device = Device(ua)
        for method in ("REGISTER", "OPTIONS", "INVITE"):
            for force in (False, True):
                for cmd, rc, text in scan(svwar, sipd, sipd.dir.name,
                                          method, force):
                    hits = [ln for ln in text.splitlines()
                            if "exists" in ln or "extensions" in ln or
                            ln.startswith("| ")]
                    nothing = "found nothing" in text or \
                        "authentication request for an unknown" in text
                    print("svwar %s: %s" % (cmd, "nothing" if nothing
                                            and not hits else hits))
                    if hits or not nothing:
                        found.append("svwar %s (exit %d):\n%s" % (
                            cmd, rc, text[-1500:]))
        check(not found, "\n\n".join(found))
    finally:
        if device:
            device.close()
        ua.close()
    check(sipd.alive(), "sipd died")
    sipdtest.stop_clean(sipd)


sipdtest.run(test)

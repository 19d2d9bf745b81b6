"""Two gateways registering with a real registrar: Kamailio from Debian's
packages (provider.cfg of this folder: registrar and proxy requiring
Digest with qop=auth and nonce counts checked, relaying the calls it
authenticated to sipp's UAS behind it), started by the test on
127.0.0.2.

- Gateway K (the right password, register-every 2, calls-authenticate)
  registers and refreshes: the refresh's credentials reuse the nonce
  with the next count, which Kamailio checks;
- a call for 95551234@example.com goes through K to Kamailio with
  credentials from the REGISTER's nonce and reaches the UAS behind it,
  answered 200; a second call too (the count goes on, no replay);
- gateway W (a wrong password) ends failed, last status 401, and sends
  no more REGISTERs.
Skipped without kamailio or sipp (a failure when CI=true)."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import sipdtest
import sipua
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))
import gwlib  # noqa: E402
from sipdtest import Peer, Skip, check, request  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


class Kamailio:
    def __init__(self, workdir, uas):
        path = shutil.which("kamailio") or (
            "/usr/sbin/kamailio" if os.access("/usr/sbin/kamailio",
                                              os.X_OK) else None)
        if path is None:
            raise Skip("kamailio not installed")
        self.port = sipua.free_port("127.0.0.2")
        rundir = os.path.join(workdir, "kam")
        os.mkdir(rundir)
        self.out = open(os.path.join(workdir, "kamailio.out"), "w")
        self.proc = subprocess.Popen(
            [path, "-DD", "-E", "-f", os.path.join(HERE, "provider.cfg"),
             "-l", "udp:127.0.0.2:%d" % self.port, "-m", "32", "-M", "8",
             "-Y", rundir, "-A", 'GW_USER="gw"', "-A", 'GW_PASS="pw"',
             "-A", 'UAS="sip:127.0.0.2:%d"' % uas],
            stdin=subprocess.DEVNULL, stdout=self.out,
            stderr=subprocess.STDOUT, start_new_session=True)
        probe = Peer()
        try:
            for _ in range(50):
                r = probe.ask(request("OPTIONS", self.port, "127.0.0.2"),
                              self.port, "127.0.0.2", timeout=0.1)
                if r is not None:
                    return
                check(self.proc.poll() is None, "kamailio exited")
            check(False, "kamailio did not answer OPTIONS in 5 s")
        finally:
            probe.close()

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        self.out.close()


def call(ua, sipd):
    c = sipua.Call(ua, "sip:95551234@example.com")
    ua.send(c.request("INVITE"), sipd.port)
    r = ua.expect("a final response", lambda m: (
        not m.is_request() and m.status >= 200 and
        m.call_id() == c.call_id), 8.0)
    check(r.status == 200, "the call through Kamailio got %d" % r.status)
    ua.send(c.ack(r), sipd.port)
    return c


def test(binary, started):
    work = tempfile.TemporaryDirectory(prefix="gw-kamailio-")
    uas = gwlib.Provider(work.name, "uas", "sn:uas", 2)
    kam = Kamailio(work.name, uas.port)
    ua = sipua.UA("127.0.0.1")
    try:
        sipd = sipdtest.Sipd(binary, conf=(
            "domain add example.com\n"
            "account add alice@example.com password a\n"
            "gateway add K domain provider.test via 127.0.0.2:%d "
            "username gw password pw register-every 2 contact alice "
            "calls-authenticate on\n"
            "gateway add W domain provider.test via 127.0.0.2:%d "
            "username gw password wrong register-every 2 contact alice\n"
            "router add NoRelay:Signal:<9*> = *@K.sipgw\n"
            % (kam.port, kam.port)))
        started.append(sipd)
        sipd.start()
        gwlib.wait_state(sipd, "K", ("registered",), 5)
        w = gwlib.wait_state(sipd, "W", ("failed",), 5)
        check(w["last-status"] == 401, "W: %s" % w)
        c1 = call(ua, sipd)
        # a refresh (every 2 s) with the nonce's next count, then a call
        time.sleep(2.5)
        k = gwlib.show(sipd)["K"]
        check(k["state"] == "registered" and k["last-status"] == 200,
              "K after its refresh: %s" % k)
        c2 = call(ua, sipd)
        invs = uas.received("INVITE")
        check([m.call_id() for m in invs] == [c1.call_id, c2.call_id],
              "the UAS behind Kamailio got %s" % invs)
        check(sipd.wait_log("gateway W, failed"), "no line for W")
        sipdtest.stop_clean(sipd)
    finally:
        kam.stop()
        uas.stop()
        ua.close()


sipdtest.run(test)

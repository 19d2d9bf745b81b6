"""Two real user agents: Debian's baresip as alice (127.0.0.3) and bob
(127.0.0.4) register to sipd with Digest, directly, against sipd's
default challenges, then alice calls bob through sipd (set force-rr
on: sipd stays on the dialog's path); bob answers by itself
(answermode=auto); alice hangs up.

baresip 1.0.0 (libre 1.1) gives up on a 401 that holds any challenge
other than MD5, first or not ("Register: Function not implemented"):
sipd's default offers MD5 only (sipd.conf(5), auth-sha256), and each
phone must register against it as shipped.  With the SHA-256 challenge
offered (first or second) neither registers and the test fails.

What is checked is what the phones themselves sent and received: their
SIP traces (baresip -s), not sipd's log.  Each phone received a 401
whose only challenge is MD5, then a 200 to its REGISTER; sipd's binding
is the phone's own address exactly.  bob received the INVITE from
sipd's address, its Request-URI his registered contact, with sipd's
Record-Route; alice received the 200; bob received the ACK and the BYE
of that call from sipd, and alice the 200 to her BYE.

baresip runs headless: audio through its aubridge module (no device),
commands over its ctrl_tcp module (netstrings of JSON) on 127.0.0.1.
Skipped without baresip (apt-get install baresip-core); a failure when
CI=true."""

import json
import re
import os
import shutil
import socket
import subprocess
import time

import sipdtest
import sipreg
from sipdtest import Fail, Skip, check, free_udp_port
from sipua import free_port

CONF = """domain add example.com
account add alice@example.com password alice-pw
account add bob@example.com password bob-pw
set force-rr on
"""

CONFIG = """poll_method epoll
sip_listen {host}:{port}
call_local_timeout 30
call_max_calls 2
audio_player aubridge,{name}
audio_source aubridge,{name}
audio_alert aubridge,{name}
module_path /usr/lib/baresip/modules
module g711.so
module aubridge.so
module_app account.so
module_app menu.so
module_app ctrl_tcp.so
ctrl_tcp_listen 127.0.0.1:{ctrl}
"""


class Baresip:
    def __init__(self, workdir, name, host, password, sipd_port,
                 answer=False):
        self.name = name
        self.host = host
        self.dir = os.path.join(workdir, name)
        os.mkdir(self.dir)
        self.port = free_udp_port(host)
        self.ctrl = free_port()
        with open(os.path.join(self.dir, "config"), "w") as f:
            f.write(CONFIG.format(host=host, port=self.port, name=name,
                                  ctrl=self.ctrl))
        with open(os.path.join(self.dir, "accounts"), "w") as f:
            f.write("<sip:%s@example.com;transport=udp>;auth_pass=%s;"
                    "outbound=\"sip:127.0.0.1:%d;transport=udp\";"
                    "regint=300;answermode=%s;medianat=;mwi=no\n" % (
                        name, password, sipd_port,
                        "auto" if answer else "manual"))
        with open(os.path.join(self.dir, "contacts"), "w") as f:
            f.write("")
        self.out_path = os.path.join(self.dir, "out.txt")
        with open(self.out_path, "w") as out:
            self.proc = subprocess.Popen(
                [shutil.which("baresip"), "-s", "-f", self.dir, "-t", "40"],
                stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, cwd=self.dir)

    def output(self):
        with open(self.out_path, errors="replace") as f:
            return f.read()

    @property
    def addr(self):
        return "%s:%d" % (self.host, self.port)

    def wire(self):
        """What this phone sent and received (its SIP trace)."""
        return sipreg.baresip_trace(self.output(), self.addr)

    def received(self, start, peer=None, call_id=None):
        """Messages this phone received whose start line begins with
        start, from peer ("host:port", None: anyone), of call_id."""
        return [w.msg for w in self.wire() if w.way == "in" and
                w.msg.start.startswith(start) and
                (peer is None or w.peer == peer) and
                (call_id is None or w.msg.call_id() == call_id)]

    def command(self, cmd, params=""):
        """One ctrl_tcp command; its JSON response (bounded waits)."""
        req = json.dumps({"command": cmd, "params": params,
                          "token": "t"}).encode()
        data = b"%d:%s," % (len(req), req)
        with socket.create_connection(("127.0.0.1", self.ctrl),
                                      timeout=5) as s:
            s.sendall(data)
            buf = b""
            deadline = time.monotonic() + 5
            for _ in range(1000):
                if time.monotonic() > deadline:
                    break
                try:
                    chunk = s.recv(65536)
                except socket.timeout:
                    break
                if not chunk:
                    break
                buf += chunk
                # responses and events: stop at our response
                if b'"response"' in buf and buf.endswith(b","):
                    break
        return buf.decode("utf-8", "replace")

    def stop(self):
        if self.proc.poll() is None:
            try:
                self.command("quit")
            except OSError:
                pass
            try:
                self.proc.wait(3)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def wait_ctrl(b):
    def up():
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", b.ctrl)) == 0
    sipreg.wait_for("baresip %s's control port" % b.name, up, 10.0)


def check_registered(sipd, b):
    """b registered directly: the challenge it read offers MD5 only (the
    default: baresip 1.0 gives up on a response holding any SHA-256
    challenge, first or not), it got a 200, and sipd's binding is b's own
    address."""
    sipd_addr = "127.0.0.1:%d" % sipd.port
    chs = [m for m in b.received("SIP/2.0 401", sipd_addr)
           if m.cseq()[1] == "REGISTER"]
    check(chs, "%s received no 401 to its REGISTER from sipd" % b.name)
    algs = sipreg.challenge_algs(chs[0])
    check(algs == ["MD5"],
          "%s was challenged with %s, not MD5 alone" % (b.name, algs))
    oks = [m for m in b.received("SIP/2.0 200", sipd_addr)
           if m.cseq()[1] == "REGISTER"]
    check(oks, "%s received no 200 to its REGISTER" % b.name)
    got = sipreg.registrations(sipd, "%s@example.com" % b.name)
    check(len(got) == 1, "%s's bindings: %s" % (b.name, got))
    check(got[0]["source"] == b.addr,
          "%s's binding was registered from %s, not the phone's %s" % (
              b.name, got[0]["source"], b.addr))
    check(re.match(r"sip:%s(-[^@]*)?@%s(;|$)" % (b.name, re.escape(b.addr)),
                   got[0]["contact"]) is not None,
          "%s's contact %s is not at %s" % (b.name, got[0]["contact"],
                                            b.addr))
    return got[0]["contact"]


def test(binary, started):
    if shutil.which("baresip") is None:
        if os.environ.get("CI") == "true":
            raise Fail("baresip not installed (CI=true)")
        raise Skip("baresip not installed (apt-get install baresip-core)")
    sipd = sipreg.start(binary, started, conf=CONF)
    sipd_addr = "127.0.0.1:%d" % sipd.port
    agents = []
    try:
        bob = Baresip(sipd.dir.name, "bob", "127.0.0.4", "bob-pw",
                      sipd.port, answer=True)
        agents.append(bob)
        alice = Baresip(sipd.dir.name, "alice", "127.0.0.3", "alice-pw",
                        sipd.port)
        agents.append(alice)
        for b in agents:
            sipreg.wait_for(
                "%s's registration" % b.name,
                lambda: [m for m in b.received("SIP/2.0 200", sipd_addr)
                         if m.cseq()[1] == "REGISTER"], 10.0, 0.2)
        contact = {b.name: check_registered(sipd, b) for b in agents}
        wait_ctrl(alice)
        alice.command("dial", "sip:bob@example.com")
        oks = sipreg.wait_for("the call's 200 at alice", lambda: [
            m for m in alice.received("SIP/2.0 200", sipd_addr)
            if m.cseq()[1] == "INVITE"], 10.0, 0.2)
        call_id = oks[-1].call_id()
        sipreg.wait_for("the ACK at bob", lambda: bob.received(
            "ACK ", sipd_addr, call_id), 10.0, 0.2)
        alice.command("hangup")
        sipreg.wait_for("the BYE's 200 at alice", lambda: [
            m for m in alice.received("SIP/2.0 200", sipd_addr, call_id)
            if m.cseq()[1] == "BYE"], 10.0, 0.2)
    except Exception:
        for b in agents:
            print("--- baresip %s ---\n%s" % (b.name, b.output()[-3000:]))
        raise
    finally:
        for b in agents:
            b.stop()
    inv = bob.received("INVITE ", sipd_addr, call_id)
    check(len(inv) >= 1, "bob received no INVITE of the call from sipd")
    check(inv[0].uri == contact["bob"],
          "bob received the INVITE with Request-URI %s, not his contact %s"
          % (inv[0].uri, contact["bob"]))
    rr = inv[0].get("Record-Route")
    check(rr and rr[0].startswith("<sip:%s" % sipd_addr),
          "bob received the INVITE with Record-Route %s, not sipd's (%s)" % (
              rr, sipd_addr))
    sent = [w.msg for w in alice.wire() if w.way == "out" and
            w.msg.start.startswith("INVITE ") and w.peer == sipd_addr]
    check(sent and sent[-1].call_id() == call_id,
          "alice's INVITE of the call did not go to sipd")
    for method in ("ACK", "BYE"):
        check(bob.received(method + " ", sipd_addr, call_id),
              "bob received no %s of the call from sipd" % method)
    check(sipd.alive(), "sipd died")
    sipdtest.stop_clean(sipd)


sipdtest.run(test)

"""Two real user agents: Debian's baresip as alice (127.0.0.3) and bob
(127.0.0.4) register to sipd with Digest, then alice calls bob through
sipd (set force-rr on: sipd stays on the dialog's path); bob answers
by itself (answermode=auto); alice hangs up.  sipd's
log (SIPDATA) must show the INVITE from alice forwarded to bob's
binding, the 200 back to alice, the ACK and the BYE forwarded to bob.

baresip runs headless: audio through its aubridge module (no device),
commands over its ctrl_tcp module (netstrings of JSON) on 127.0.0.1.
baresip 1.0.0 (libre) answers only the first challenge and fails on
SHA-256 ("Register: Function not implemented"), so each talks to sipd
through a relay that drops the SHA-256 challenges (sipreg.MD5Only); its
outbound proxy is that relay.
Skipped without baresip (apt-get install baresip-core)."""

import json
import os
import shutil
import socket
import subprocess
import time

import sipdtest
import sipreg
from sipdtest import Skip, check, free_udp_port
from sipua import free_port, sipdata

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
                [shutil.which("baresip"), "-f", self.dir, "-t", "40"],
                stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, cwd=self.dir)

    def output(self):
        with open(self.out_path, errors="replace") as f:
            return f.read()

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


def test(binary, started):
    if shutil.which("baresip") is None:
        raise Skip("baresip not installed (apt-get install baresip-core)")
    sipd = sipreg.start(binary, started, conf=CONF)
    agents = []
    relays = [sipreg.MD5Only(sipd.port), sipreg.MD5Only(sipd.port)]
    try:
        bob = Baresip(sipd.dir.name, "bob", "127.0.0.4", "bob-pw",
                      relays[0].port, answer=True)
        agents.append(bob)
        alice = Baresip(sipd.dir.name, "alice", "127.0.0.3", "alice-pw",
                        relays[1].port)
        agents.append(alice)
        for who in ("alice", "bob"):
            sipreg.wait_for(
                "%s's registration" % who,
                lambda: sipreg.registrations(sipd, "%s@example.com" % who),
                10.0, 0.2)
        wait_ctrl(alice)
        alice.command("dial", "sip:bob@example.com")
        sipreg.wait_for("the call's 200 in sipd's log", lambda: [
            lm for lm in sipdata(sipd.log()) if lm.way == "out" and
            lm.msg.status == 200 and lm.msg.cseq()[1] == "INVITE"],
            10.0, 0.2)
        time.sleep(0.5)
        alice.command("hangup")
        sipreg.wait_for("the BYE's 200 in sipd's log", lambda: [
            lm for lm in sipdata(sipd.log()) if lm.way == "out" and
            lm.msg.status == 200 and lm.msg.cseq()[1] == "BYE"],
            10.0, 0.2)
    except Exception:
        for b in agents:
            print("--- baresip %s ---\n%s" % (b.name, b.output()[-3000:]))
        raise
    finally:
        for b in agents:
            b.stop()
        for r in relays:
            r.close()
    # sipd sends to the address a binding was registered from: the relay
    bob_peers = ("127.0.0.4:%d" % bob.port,
                 "127.0.0.1:%d" % relays[0].back_port)
    alice_peers = ("127.0.0.3:%d" % alice.port,
                   "127.0.0.1:%d" % relays[1].back_port)
    logged = sipdata(sipd.log())

    def seen(way, peers, start):
        return [lm.msg for lm in logged if lm.way == way and
                lm.peer in peers and lm.msg.start.startswith(start)]
    inv_in = seen("in", alice_peers, "INVITE sip:bob@example.com")
    check(inv_in, "no INVITE from alice (%s) in sipd's log" % (alice_peers,))
    call_id = inv_in[-1].call_id()
    inv_out = [m for m in seen("out", bob_peers, "INVITE ")
               if m.call_id() == call_id]
    check(inv_out, "INVITE not forwarded to bob's binding %s" % (bob_peers,))
    check("@127.0.0.4:%d" % bob.port in inv_out[0].uri,
          "INVITE forwarded with Request-URI %s" % inv_out[0].uri)
    ok_in = [m for m in seen("in", bob_peers, "SIP/2.0 200")
             if m.call_id() == call_id and m.cseq()[1] == "INVITE"]
    ok_out = [m for m in seen("out", alice_peers, "SIP/2.0 200")
              if m.call_id() == call_id and m.cseq()[1] == "INVITE"]
    check(ok_in and ok_out, "200 to the INVITE: from bob %d, to alice %d"
          % (len(ok_in), len(ok_out)))
    for method in ("ACK", "BYE"):
        got = [m for m in seen("out", bob_peers, method + " ")
               if m.call_id() == call_id]
        check(got, "%s of the call not forwarded to bob" % method)
    check(sipd.alive(), "sipd died")
    sipdtest.stop_clean(sipd)


sipdtest.run(test)

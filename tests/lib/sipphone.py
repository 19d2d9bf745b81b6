"""baresip as a real phone for the tests: one instance per account, its
outbound proxy sipd, controlled over ctrl_tcp, its SIP trace (-s) read
back as what it sent and received.  Every wait is bounded.

The ports it listens on are picked free and then bound by baresip: when
another process takes one in between, baresip ends at once, and the
phone is started again on new ports (at most START_TRIES times)."""

import json
import os
import re
import shutil
import socket
import subprocess
import time

import sipreg
from sipdtest import Fail, free_udp_port
from sipua import free_port

START_TRIES = 3

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


def _bound_tcp(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


class Baresip:
    """baresip as name@example.com on host (its own 127.0.0.x), its
    outbound proxy sipd on 127.0.0.1:sipd_port; answer: auto-answer."""

    def __init__(self, workdir, name, host, password, sipd_port,
                 answer=False):
        self.name = name
        self.host = host
        self.dir = os.path.join(workdir, name)
        os.mkdir(self.dir)
        with open(os.path.join(self.dir, "accounts"), "w") as f:
            f.write("<sip:%s@example.com;transport=udp>;auth_pass=%s;"
                    "outbound=\"sip:127.0.0.1:%d;transport=udp\";"
                    "regint=300;answermode=%s;medianat=;mwi=no\n" % (
                        name, password, sipd_port,
                        "auto" if answer else "manual"))
        with open(os.path.join(self.dir, "contacts"), "w") as f:
            f.write("")
        self.out_path = os.path.join(self.dir, "out.txt")
        for _ in range(START_TRIES):
            if self._start():
                return
        raise Fail("baresip %s did not start:\n%s" % (name, self.output()))

    def _start(self):
        """Start on fresh ports; False when baresip ended at once (its
        ports were taken meanwhile)."""
        self.port = free_udp_port(self.host)
        self.ctrl = free_port()
        with open(os.path.join(self.dir, "config"), "w") as f:
            f.write(CONFIG.format(host=self.host, port=self.port,
                                  name=self.name, ctrl=self.ctrl))
        with open(self.out_path, "w") as out:
            self.proc = subprocess.Popen(
                [shutil.which("baresip"), "-s", "-f", self.dir, "-t", "40"],
                stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, cwd=self.dir)
        deadline = time.monotonic() + 10
        for _ in range(200):
            if self.proc.poll() is not None:
                return False
            if _bound_tcp(self.ctrl):
                return True
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
        raise Fail("baresip %s: no control port within 10 s" % self.name)

    def output(self):
        try:
            with open(self.out_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def saw(self, pattern):
        return re.search(pattern, self.output(), re.IGNORECASE)

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
        """One ctrl_tcp command (a netstring of JSON); its response
        (bounded waits)."""
        req = json.dumps({"command": cmd, "params": params,
                          "token": "t"}).encode()
        with socket.create_connection(("127.0.0.1", self.ctrl),
                                      timeout=5) as s:
            s.sendall(b"%d:%s," % (len(req), req))
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

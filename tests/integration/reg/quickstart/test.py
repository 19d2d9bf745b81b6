"""The README's quick start, as a new user follows it: sipd started in
the foreground from the shipped sipd/sipd.conf (sipd -f -c
sipd/sipd.conf, on its own ports 127.0.0.1:5060 UDP and TCP when they
are free, else on a copy of it with only the listener ports changed),
and two phones registering as the demo accounts alice (alice-demo) and
bob (bob-demo) straight to sipd, with sipd's default challenges, then
alice calling bob and hanging up.

The phones are Debian's baresip (headless: aubridge audio, ctrl_tcp
commands); what counts is what they report: each registered ("200
OK"), alice's call established and closed, bob's call established.
The control socket is a private one (-s), the only departure from the
README's command: the default path may belong to a sipd already
running here.  Skipped (failed under CI) without baresip."""

import os
import shutil
import socket
import tempfile
import time

import sipdtest
from sipdtest import Fail, Skip, check, free_udp_port
from sipphone import Baresip

SHIPPED = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                       "..", "..", "..", "..", "sipd", "sipd.conf")
ACCOUNTS = (("alice", "alice-demo", "127.0.0.3"),
            ("bob", "bob-demo", "127.0.0.4"))



def wait_for(what, fn, timeout):
    """fn()'s first true value within timeout seconds (bounded)."""
    deadline = time.monotonic() + timeout
    for _ in range(int(timeout / 0.1) + 1):
        got = fn()
        if got:
            return got
        if time.monotonic() > deadline:
            break
        time.sleep(0.1)
    raise Fail("no %s within %.0f s" % (what, timeout))


def ports_free():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u, \
            socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
        try:
            u.bind(("127.0.0.1", 5060))
            t.bind(("127.0.0.1", 5060))
        except OSError:
            return False
    return True


class Shipped(sipdtest.Sipd):
    """sipd on the shipped file, or a copy on other ports."""

    def __init__(self, binary):
        super().__init__(binary)
        with open(SHIPPED) as f:
            self.text = f.read()

    def write_conf(self):
        if ports_free():
            self.conf_path = SHIPPED
            self.ports = [5060]
            return
        port = sipdtest.free_udp_port()
        self.conf_path = os.path.join(self.dir.name, "sipd.conf")
        with open(self.conf_path, "w") as f:
            f.write(self.text.replace("127.0.0.1:5060",
                                      "127.0.0.1:%d" % port))
        self.ports = [port]

    def launch(self):
        # the registrations go to the run directory, as a user's would
        os.environ["XDG_RUNTIME_DIR"] = self.dir.name
        return super().launch()


def test(binary, started):
    if shutil.which("baresip") is None:
        raise Skip("baresip not installed (apt-get install baresip-core)")
    sipd = Shipped(binary)
    started.append(sipd)
    sipd.start()
    print("sipd on %s, port %d" % (sipd.conf_path, sipd.port))
    # the shipped file is the one in the tree, unchanged
    check(sipd.conf_path == SHIPPED or
          open(sipd.conf_path).read() == sipd.text.replace(
              "127.0.0.1:5060", "127.0.0.1:%d" % sipd.port),
          "not the shipped configuration")
    agents = []
    with tempfile.TemporaryDirectory(prefix="sipdtest-") as workdir:
        try:
            for name, password, host in ACCOUNTS:
                agents.append(Baresip(workdir, name, host, password,
                                      sipd.port, answer=(name == "bob")))
            alice, bob = agents
            for b in agents:
                # baresip prints "reg: sip:alice@example.com: Register:
                # Function not implemented" when it cannot answer sipd's
                # challenges (libre 1.0 knows MD5 only)
                wait_for("registration of %s (200 OK at baresip)" % b.name,
                         lambda: b.saw(r"%s@example.com.*200 OK" % b.name)
                         or b.saw(r"Register: ")
                         or b.proc.poll() is not None, 10.0)
                check(b.proc.poll() is None, "baresip %s ended" % b.name)
                check(not b.saw(r"Register: "),
                      "%s could not register with sipd's default "
                      "challenges:\n%s" % (b.name, b.output()))
            wait_for("alice's control port", lambda: socket.socket().
                     connect_ex(("127.0.0.1", alice.ctrl)) == 0, 10.0)
            alice.command("dial", "sip:bob@example.com")
            wait_for("the call established at alice",
                     lambda: alice.saw(r"call established"), 10.0)
            wait_for("the call established at bob",
                     lambda: bob.saw(r"call established"), 10.0)
            alice.command("hangup")
            wait_for("the call closed at bob",
                     lambda: bob.saw(r"(session closed|call closed|"
                                     r"terminated)"), 10.0)
        except Exception:
            for b in agents:
                print("--- baresip %s ---\n%s" % (b.name,
                                                 b.output()[-3000:]))
            raise
        finally:
            for b in agents:
                b.stop()
    check(sipd.alive(), "sipd died")
    sipdtest.stop_clean(sipd)


sipdtest.run(test)

"""A NAT test network in Linux network namespaces: a "home" network behind
a NAT router, an "office" LAN, and a namespace for sipd with a LAN side
and a WAN side.

    home 192.168.77.2 --- 192.168.77.1 router 203.0.113.2 --- 203.0.113.1
                           (masquerade)                          sipd
    office 10.20.0.2 ------------------------------------ 10.20.0.1

Built with ip netns, veth pairs and an nftables masquerade rule; the
router's conntrack UDP timeouts are set short (udp_timeout seconds) so
that a NAT mapping expires within a test.  Every name carries a tag
unique to this process, and close() removes everything made (the
namespaces, and so their links and rules), also when building failed
half-way: use Topology as a context manager.

Needs root, iproute2 and nftables (Debian's iproute2 and nftables);
available() says why not.  The addresses exist only inside the
namespaces: nothing is reachable from or leaks to the host's network.
"""

import json
import os
import random
import select
import shutil
import subprocess
import time

import sipdtest

HOME, ROUTER_HOME = "192.168.77.2", "192.168.77.1"
ROUTER_WAN, SIPD_WAN = "203.0.113.2", "203.0.113.1"
OFFICE, SIPD_LAN = "10.20.0.2", "10.20.0.1"
CMD_TIMEOUT = 10  # seconds, for each ip, nft or sysctl run
# sipd on both sides, the LAN side first (the oldest listener)
LISTENERS = ("listener add udp %s:5060\nlistener add udp %s:5060\n" %
             (SIPD_LAN, SIPD_WAN))


def available():
    """None when namespaces can be built here, else why not."""
    if os.geteuid() != 0:
        return "not root"
    for tool, pkg in (("ip", "iproute2"), ("nft", "nftables")):
        if shutil.which(tool) is None:
            return "%s not found (Debian's %s)" % (tool, pkg)
    return None


class Topology:
    """The network above; ns[name] is the namespace of "home", "router",
    "office" or "sipd"."""

    def __init__(self, udp_timeout=2):
        self.tag = "n%05x" % (random.getrandbits(20) ^ os.getpid())
        self.ns = {k: "%s-%s" % (self.tag, k)
                   for k in ("home", "router", "office", "sipd")}
        self.udp_timeout = udp_timeout
        self.made_ns = []
        self.made_links = []  # created in the host's namespace first
        self.procs = []

    # ---------------------------------------------------------- running

    def run(self, *argv, ns=None):
        """Run argv (in namespace ns): its stdout; raises on failure."""
        cmd = (["ip", "netns", "exec", self.ns[ns]] if ns else []) + \
            list(argv)
        p = subprocess.run(cmd, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True,
                           timeout=CMD_TIMEOUT, stdin=subprocess.DEVNULL)
        if p.returncode != 0:
            raise RuntimeError("%s: exit %d: %s" % (
                " ".join(cmd), p.returncode, p.stderr.strip()))
        return p.stdout

    def spawn(self, ns, argv, **kw):
        """Start argv in namespace ns (a Popen, stopped by close())."""
        p = subprocess.Popen(["ip", "netns", "exec", self.ns[ns]] +
                             list(argv), **kw)
        self.procs.append(p)
        return p

    # --------------------------------------------------------- building

    def _link(self, a, b, name_a, name_b):
        """A veth pair, one end in namespace a, the other in b."""
        la, lb = "%s%s" % (self.tag, name_a), "%s%s" % (self.tag, name_b)
        self.run("ip", "link", "add", la, "type", "veth", "peer", "name",
                 lb)
        self.made_links.append(la)
        self.run("ip", "link", "set", la, "netns", self.ns[a])
        self.run("ip", "link", "set", lb, "netns", self.ns[b])
        self.made_links.remove(la)
        return la, lb

    def _addr(self, ns, link, addr):
        self.run("ip", "addr", "add", addr, "dev", link, ns=ns)
        self.run("ip", "link", "set", link, "up", ns=ns)

    def build(self):
        for ns in self.ns.values():
            self.run("ip", "netns", "add", ns)
            self.made_ns.append(ns)
        for ns in self.ns:
            self.run("ip", "link", "set", "lo", "up", ns=ns)
        # home <-> router <-> sipd (WAN), office <-> sipd (LAN)
        h, rh = self._link("home", "router", "h", "rh")
        rw, sw = self._link("router", "sipd", "rw", "sw")
        o, sl = self._link("office", "sipd", "o", "sl")
        self._addr("home", h, HOME + "/24")
        self._addr("router", rh, ROUTER_HOME + "/24")
        self._addr("router", rw, ROUTER_WAN + "/24")
        self._addr("sipd", sw, SIPD_WAN + "/24")
        self._addr("office", o, OFFICE + "/24")
        self._addr("sipd", sl, SIPD_LAN + "/24")
        self.run("ip", "route", "add", "default", "via", ROUTER_HOME,
                 ns="home")
        self.run("ip", "route", "add", "default", "via", SIPD_LAN,
                 ns="office")
        # the home router: forwarding, masquerade toward the WAN, short
        # UDP mappings
        self.run("sysctl", "-qw", "net.ipv4.ip_forward=1", ns="router")
        self.run("nft", "add table ip nat; add chain ip nat post "
                 "{ type nat hook postrouting priority 100; }; "
                 "add rule ip nat post oifname \"%s\" masquerade" % rw,
                 ns="router")
        for key in ("nf_conntrack_udp_timeout",
                    "nf_conntrack_udp_timeout_stream"):
            self.run("sysctl", "-qw", "net.netfilter.%s=%d" % (
                key, self.udp_timeout), ns="router")
        return self

    # ---------------------------------------------------------- cleanup

    def close(self):
        """Stop what spawn() started, delete what build() made; never
        raises, tries everything."""
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            try:
                p.wait(timeout=CMD_TIMEOUT)
            except Exception:
                pass
        self.procs = []
        for link in self.made_links:
            subprocess.run(["ip", "link", "del", link],
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=CMD_TIMEOUT)
        self.made_links = []
        for ns in reversed(self.made_ns):
            subprocess.run(["ip", "netns", "del", ns],
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=CMD_TIMEOUT)
        self.made_ns = []

    def leftovers(self):
        """Names of this topology still present (for a test of close())."""
        out = subprocess.run(["ip", "netns", "list"], stdout=subprocess.PIPE,
                             text=True, timeout=CMD_TIMEOUT).stdout
        links = subprocess.run(["ip", "-o", "link"], stdout=subprocess.PIPE,
                               text=True, timeout=CMD_TIMEOUT).stdout
        return [w for w in (out + links).split() if self.tag in w]

    def __enter__(self):
        try:
            return self.build()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc):
        self.close()
        return False


class NsSipd(sipdtest.Sipd):
    """sipd in topology net's sipd namespace, listening on SIPD_LAN:5060
    and SIPD_WAN:5060, configured with conf after the listeners; ready
    once its control socket (on the shared file system) answers."""

    def __init__(self, binary, net, conf):
        super().__init__(binary)
        self.net = net
        self.extra = conf
        self.wrapper = ["ip", "netns", "exec", net.ns["sipd"]]

    def write_conf(self):
        self.hosts, self.ports = [SIPD_WAN], [5060]
        with open(self.conf_path, "w") as f:
            f.write(LISTENERS + "set reg-store %s\n" % os.path.join(
                self.dir.name, "registrations.db") + self.extra)

    def wait_ready(self):
        for _ in range(50):
            if self.proc.poll() is not None:
                return False
            if sipdtest.sipctl(self, "status").returncode == 0:
                return True
            time.sleep(0.1)
        return False


class Events:
    """The JSON lines a process run in a namespace prints on its stdout,
    read with deadlines."""

    def __init__(self, proc):
        self.proc = proc
        self.buf = b""
        self.pending = []  # read, not yet returned

    def read(self, seconds):
        """Every event within seconds (or until the process ends)."""
        out, self.pending = self.pending, []
        deadline = time.monotonic() + seconds
        fd = self.proc.stdout.fileno()
        for _ in range(10000):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            r, _, _ = select.select([fd], [], [], left)
            if not r:
                break
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            self.buf += chunk
            while b"\n" in self.buf:
                line, self.buf = self.buf.split(b"\n", 1)
                out.append(json.loads(line))
        return out

    def wait(self, ev, seconds):
        """The first event ev within seconds, and those before it; the
        ones after it stay for the next read."""
        got = []
        deadline = time.monotonic() + seconds
        for _ in range(1000):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            evs = self.read(min(left, 0.2))
            for i, e in enumerate(evs):
                got.append(e)
                if e["ev"] == ev:
                    self.pending = evs[i + 1:]
                    return e, got
        raise sipdtest.Fail("no %s within %.1f s (got %r)" % (
            ev, seconds, got))

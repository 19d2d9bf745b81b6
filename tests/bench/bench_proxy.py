#!/usr/bin/python3
"""bench_proxy.py: sipd's proxy and Kamailio's, side by side, on loopback.

Not a test: it prints figures.  Both servers run as transaction-stateful,
Record-Routing proxies that send every request for bench.invalid to a sipp
UAS; a sipp UAC makes full calls (INVITE/100/180/200/ACK/BYE/200) through
them with the same scenario files, at the same offered rate, for the same
number of calls.  The servers run on one CPU, sipp and this script on
another (taskset).  Measured, per server:

  * calls per server CPU-second at a fixed rate, UDP and TCP: utime+stime
    of the server's whole process tree (every thread, every Kamailio child)
    from /proc/<pid>/stat, over the UAC's run; failed calls from sipp's
    statistics; peak RSS (VmHWM) and RSS after the run, summed over the
    tree, and PSS (which does not count Kamailio's shared memory once per
    process);
  * the highest sustained call rate with fewer than 0.1 % failed calls
    (doubling, then bisecting; each probe a fresh server and a fixed short
    duration);
  * memory per ringing call: N calls held at 180, RSS and PSS growth / N.

  * the same side by side driven by loadgen.c (caller and callee in one
    process, paced, recvmmsg/sendmmsg) at 500, 3000 and 8000 calls/s, UDP
    and TCP, with the floor (bench_floor.c) and each server's share of
    it, sleeps per call, and sipp's figures as the cross-check;
  * user-space instructions per call under callgrind, both servers.

  * the DNS-routed case: sipd alone, the calls' domain resolved by SRV
    through a local dnsmasq (tests/lib/dnsmasq.py, TTLs of an hour, so
    every call after the first is a cache hit) against the same calls to
    a Router record naming the UAS's IP address; what a cache hit costs,
    as a share of a call's CPU.

Both servers get the same UDP receive buffer; Kamailio is searched with
1, 2, 4 and 8 children.  Every fixed-rate run is charged until the
server is quiescent (sipd keeps finished transactions 32 s, Kamailio
5 s), or over a steady-state window (--charge steady).

Every probe goes to a JSON file; the last three lines are sipd's median
calls per CPU-second over Kamailio's at 500 and at 3000 calls/s and
sipd's share of the floor at 3000 (loadgen, UDP, 1 worker), printed only
when every run completed and no call failed at those rates.

Usage: /usr/bin/python3 tests/bench/bench_proxy.py [--quick] [--sipd PATH]
See tests/bench/README.md.
"""

import argparse
import atexit
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import under_valgrind

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
UAC_XML = os.path.join(HERE, "uac.xml")
UAS_XML = os.path.join(HERE, "uas.xml")
KAMAILIO_CFG = os.path.join(HERE, "kamailio-proxy.cfg")
FLOOR_C = os.path.join(HERE, "bench_floor.c")
LOADGEN_C = os.path.join(HERE, "loadgen.c")
DOMAIN = "bench.invalid"
HOST = "127.0.0.1"
TICK = os.sysconf("SC_CLK_TCK")
FAIL_LIMIT = 0.001  # "sustained": fewer than 0.1 % failed calls
# sipp's socket buffers (its default is 64 KB): big enough that bursts
# from the server do not overflow the load generator's sockets
SIPP_BUF = str(2 * 1024 * 1024)
# a search probe's calls must be done this long after the last INVITE
PROBE_GRACE_S = 4
# The receive buffer both servers get on their UDP socket: sipd asks for
# 1 MiB (TP_UDP_RCVBUF in sipd/transport/udp.c), Kamailio is told the same
# with -b, the ceiling of its buffer probing (its default is 256 KB).  The
# kernel doubles what is asked; net.core.rmem_max must allow it.
SERVER_RCVBUF = 1024 * 1024
# Deferred work: how long after its last call each server still has work
# to do.  sipd keeps finished transactions 64*T1 = 32 s (RFC 3261 Timers
# D, J, K; RFC 6026), Kamailio's tm 5 s (wait_timer); 2 s and 3 s more for
# the timer that frees them.  A fixed-rate run keeps the server up that
# long after the last call and charges all its CPU up to then.  Part of
# that tail is time, not calls (a timer that ticks while transactions
# wait), so the sipp runs and the loadgen runs at the same rate make the
# same number of calls, and the 500/s runs are 30 s long.
LINGER_S = {"sipd": 34.0, "sipd-dns": 34.0, "kamailio": 8.0}
# --charge steady: the CPU of a window of calls that starts after a
# warm-up, both longer than sipd's 64*T1, while the calls go on: every
# server is then paying for earlier calls' deferred work at the rate it
# makes more, and nothing of the run's end is counted.
STEADY_WARM_S = 36.0
STEADY_WINDOW_S = 36.0
# The rates of the side-by-side table, and Kamailio's children tried in
# the highest-rate search (the best is kept).
RATES = (500, 3000, 8000)
KAM_CHILDREN = (1, 2, 4, 8)

# Sizes of the two runs.  Durations are the UAC's nominal sending time.
PROFILES = {
    "default": dict(
        rate=500, udp_s=30, tcp_s=30, reps=3, rates=RATES,
        lg_s={500: 30, 3000: 10, 8000: 8}, lg_reps=3,
        kam_children=KAM_CHILDREN, cg_calls=(500, 1500), cg_rate=100,
        search_start=1000, search_max=32000, probe_s=5, bisect=3,
        hold_n=2000, hold_rate=500, budget_s=60 * 60),
    "quick": dict(
        rate=500, udp_s=4, tcp_s=4, reps=1, rates=(500, 3000),
        lg_s={500: 4, 3000: 3, 8000: 2}, lg_reps=1,
        kam_children=(1, 4), cg_calls=(200, 600), cg_rate=100,
        search_start=2000, search_max=32000, probe_s=2, bisect=1,
        hold_n=1000, hold_rate=500, budget_s=20 * 60),
}
# -m: shared memory, where tm keeps its transactions.  A finished call's
# two transactions (INVITE, BYE) stay there for tm's wait timer (5 s) and
# take some 25-30 KB: 128 MB runs out near 3000 calls/s, 1 GB leaves room
# for twice the rate one worker sustains.  Untouched pages cost nothing.
KAM_SHM_MB = 1024
KAM_PKG_MB = 8  # -M: private memory per process (Debian's default)
# -x: the memory manager.  Debian's build defaults to qm, the debugging
# allocator (it records file and line per fragment); it costs Kamailio
# about 3.5 times the CPU per call of tlsf or fm here.  Anyone tuning
# Kamailio for throughput picks tlsf (pkg memory follows -x without -X).
KAM_MEM_MANAGER = "tlsf"


class SteadyWindow:
    """The server's CPU and sleeps over [warm, warm + window) of a run,
    read while the calls go on (--charge steady)."""

    def __init__(self, pid, t_start, warm, window, rate):
        self.pid = pid
        self.t_open = t_start + warm
        self.t_close = t_start + warm + window
        self.rate = rate
        self.a = self.b = None
        self.ta = self.tb = None

    def poll(self):
        now = time.monotonic()
        if self.a is None and now >= self.t_open:
            self.a, self.ta = snapshot(self.pid, pss=False), now
        elif self.a is not None and self.b is None and now >= self.t_close:
            self.b, self.tb = snapshot(self.pid, pss=False), now

    def charge(self, rec):
        """Replaces the run's CPU and sleeps by the window's; the calls
        counted are those offered in it (the generator is paced)."""
        if self.b is None:
            rec["error"] = rec.get("error") or "steady window not reached"
            return
        rec["server_cpu_window_s"] = rec["server_cpu_s"]
        rec["server_cpu_s"] = round(
            (self.b["cpu_ticks"] - self.a["cpu_ticks"]) / TICK, 3)
        rec["server_sleeps"] = self.b["sleeps"] - self.a["sleeps"]
        rec["steady_window_s"] = round(self.tb - self.ta, 3)
        rec["calls_counted"] = int(round(self.rate * (self.tb - self.ta)))


def steady_calls(rate, seconds):
    """Calls for a steady run: the warm-up, the window (at least the
    profile's seconds) and 2 s to spare."""
    window = max(STEADY_WINDOW_S, seconds)
    return int(rate * (STEADY_WARM_S + window + 2)), window


class Abort(Exception):
    """A run that cannot go on: the benchmark is partial."""


# ------------------------------------------------------------- /proc reading

def _stat_fields(pid):
    with open("/proc/%d/stat" % pid) as f:
        s = f.read()
    # comm may hold spaces and parentheses: split after the last ')'
    return s[s.rindex(")") + 2:].split()


def proc_stat(pid):
    """(ppid, utime+stime in ticks, start time) of pid, or None."""
    try:
        f = _stat_fields(pid)
    except (OSError, ValueError):
        return None
    # fields after comm: state(0) ppid(1) ... utime(11) stime(12) ...
    # starttime(19)
    return int(f[1]), int(f[11]) + int(f[12]), int(f[19])


def proc_tree(root):
    """root and all its descendants, as {pid: starttime}."""
    children = {}
    start = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        st = proc_stat(int(name))
        if st is None:
            continue
        children.setdefault(st[0], []).append(int(name))
        start[int(name)] = st[2]
    if root not in start:
        return {}
    out, todo = {}, [root]
    while todo:
        pid = todo.pop()
        if pid in out or pid not in start:
            continue
        out[pid] = start[pid]
        todo.extend(children.get(pid, []))
    return out


def _status_kb(pid, keys):
    vals = dict.fromkeys(keys, 0)
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                k = line.split(":", 1)[0]
                if k in vals:
                    vals[k] = int(line.split()[1])
    except OSError:
        pass
    return vals


def _pss_kb(pid):
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _sleeps(pid):
    """Voluntary context switches of every thread of pid: how many times
    it went to sleep waiting for something (a datagram, a timer)."""
    total = 0
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return 0
    for tid in tids:
        try:
            with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
                for line in f:
                    if line.startswith("voluntary_ctxt_switches:"):
                        total += int(line.split()[1])
        except (OSError, ValueError, IndexError):
            pass
    return total


def snapshot(root, pss=True):
    """CPU ticks and memory of root's process tree, summed."""
    pids = proc_tree(root)
    snap = dict(pids=sorted(pids), cpu_ticks=0, rss_kb=0, hwm_kb=0,
                pss_kb=0, threads=0, sleeps=0)
    for pid in pids:
        st = proc_stat(pid)
        if st is None:
            continue
        snap["cpu_ticks"] += st[1]
        snap["sleeps"] += _sleeps(pid)
        v = _status_kb(pid, ("VmRSS", "VmHWM", "Threads"))
        snap["rss_kb"] += v["VmRSS"]
        snap["hwm_kb"] += v["VmHWM"]
        snap["threads"] += v["Threads"]
        if pss:
            snap["pss_kb"] += _pss_kb(pid)
    return snap


def udp_drops(ports):
    """Datagrams the kernel dropped on the loopback UDP sockets bound to
    ports (the last column of /proc/net/udp), summed per port."""
    out = dict.fromkeys(ports, 0)
    try:
        with open("/proc/net/udp") as f:
            next(f)
            for line in f:
                fields = line.split()
                port = int(fields[1].split(":")[1], 16)
                if port in out:
                    out[port] += int(fields[-1])
    except (OSError, ValueError, IndexError, StopIteration):
        pass
    return out


def udp_rcvbuf_errors():
    """The kernel's count of UDP datagrams dropped for a full receive
    buffer, every socket (RcvbufErrors of /proc/net/snmp)."""
    try:
        with open("/proc/net/snmp") as f:
            rows = [l.split() for l in f if l.startswith("Udp:")]
        return int(rows[1][rows[0].index("RcvbufErrors")])
    except (OSError, ValueError, IndexError):
        return None


def sock_rcvbuf(port, transport="udp"):
    """The receive buffer (bytes, as the kernel counts it: twice what was
    asked) of the socket bound to port on loopback, from ss; None when
    unknown."""
    try:
        r = subprocess.run(["ss", "-n", "-m", "-a",
                            "-u" if transport == "udp" else "-t",
                            "sport", "=", ":%d" % port],
                           capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return None
    for tok in r.stdout.replace("(", ",").replace(")", ",").split(","):
        if tok.startswith("rb") and tok[2:].isdigit():
            return int(tok[2:])
    return None


def cpu_ticks(pids):
    total = 0
    for pid in pids:
        st = proc_stat(pid)
        if st is not None:
            total += st[1]
    return total


# --------------------------------------------------------- process handling

class Procs:
    """Every process this script starts, to stop them by PID: on return,
    on failure, on Ctrl-C.  A server's children (Kamailio's) are recorded
    with their start times so a reused PID is never signalled."""

    def __init__(self):
        self.live = {}  # pid -> (Popen, name, {pid: starttime} of the tree)

    nice = 0

    def start(self, name, argv, log_path, cpus=None):
        if cpus is not None:
            argv = ["taskset", "-c", cpus] + argv  # taskset execs argv
        if self.nice:
            argv = ["nice", "-n", str(self.nice)] + argv  # so does nice
        log = open(log_path, "w")
        try:
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                 stderr=subprocess.STDOUT)
        finally:
            log.close()
        self.live[p.pid] = (p, name, {})
        return p

    def record_tree(self, p):
        if p.pid in self.live:
            tree = proc_tree(p.pid)
            self.live[p.pid][2].update(tree)

    def stop(self, p, timeout=10.0):
        """SIGTERM, then SIGKILL; then any recorded child still alive.
        Returns the exit status."""
        if p.pid not in self.live:
            return p.returncode
        self.record_tree(p)
        _, _, tree = self.live[p.pid]
        if p.poll() is None:
            try:
                p.send_signal(signal.SIGTERM)
                p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=5)
        deadline = time.monotonic() + 3
        for pid, started in tree.items():
            if pid == p.pid:
                continue
            while time.monotonic() < deadline:
                st = proc_stat(pid)
                if st is None or st[2] != started:
                    break
                time.sleep(0.05)
            st = proc_stat(pid)
            if st is not None and st[2] == started:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        del self.live[p.pid]
        return p.returncode

    def stop_all(self):
        for pid in list(self.live):
            p = self.live[pid][0]
            try:
                self.stop(p, timeout=3)
            except Exception:  # best effort on the way out
                pass


PROCS = Procs()


def _on_signal(signum, frame):
    raise KeyboardInterrupt


# -------------------------------------------------------------- ports, SIP

class Ports:
    """Free loopback ports, UDP and TCP both, away from the ephemeral
    range; a port is handed out once per run."""

    def __init__(self):
        self.next = 20000 + (os.getpid() * 37) % 8000
        self.used = set()

    def _free(self, port):
        for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
            s = socket.socket(socket.AF_INET, kind)
            try:
                s.bind((HOST, port))
            except OSError:
                return False
            finally:
                s.close()
        return True

    def get(self, pair=False):
        """A free port; with pair, port and port+2 (sipp's media)."""
        for _ in range(4000):
            p = self.next
            self.next += 3
            if self.next > 31000:
                self.next = 20000
            want = (p, p + 2) if pair else (p,)
            if any(q in self.used for q in want):
                continue
            if all(self._free(q) for q in want):
                self.used.update(want)
                return p
        raise Abort("no free loopback port")

    def release(self, *ports):
        for p in ports:
            self.used.discard(p)
            self.used.discard(p + 2)


def options_ping(port, transport, timeout=0.3):
    """True when something answers an OPTIONS on port."""
    tag = "%x" % int(time.monotonic() * 1e6)
    req = ("OPTIONS sip:ping@%s:%d SIP/2.0\r\n"
           "Via: SIP/2.0/%s %s:9;branch=z9hG4bKbench%s\r\n"
           "Max-Forwards: 70\r\n"
           "From: <sip:bench@%s>;tag=%s\r\n"
           "To: <sip:ping@%s>\r\n"
           "Call-ID: ping-%s@bench\r\n"
           "CSeq: 1 OPTIONS\r\n"
           "Content-Length: 0\r\n\r\n" %
           (HOST, port, transport.upper(), HOST, tag, HOST, tag, HOST,
            tag)).encode()
    if transport == "udp":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.bind((HOST, 0))
            req = req.replace(b"%s:9;" % HOST.encode(),
                              b"%s:%d;" % (HOST.encode(),
                                           s.getsockname()[1]))
            s.settimeout(timeout)
            s.sendto(req, (HOST, port))
            return s.recv(65535).startswith(b"SIP/2.0")
        except OSError:
            return False
        finally:
            s.close()
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.settimeout(timeout)
        s.connect((HOST, port))
        s.sendall(req)
        return s.recv(65535).startswith(b"SIP/2.0")
    except OSError:
        return False
    finally:
        s.close()


# ------------------------------------------------------------------ servers

class Server:
    """One server under test, started fresh for every run."""

    name = "?"

    def __init__(self, args, workdir, cpus):
        self.args = args
        self.workdir = workdir
        self.cpus = cpus
        self.proc = None
        self.port = None
        self.log_path = None
        self.transport = None

    def label(self, workers):
        return "%s %dw" % (self.name, workers)

    @property
    def linger_s(self):
        """Seconds after the last call until the server is idle."""
        return LINGER_S.get(self.name, 0.0)

    def argv(self, rundir, transport, workers, port, uas_port):
        raise NotImplementedError

    def start(self, rundir, transport, workers, port, uas_port):
        self.port = port
        self.transport = transport
        self.log_path = os.path.join(rundir, "%s.log" % self.name)
        argv = self.argv(rundir, transport, workers, port, uas_port)
        self.proc = PROCS.start(self.name, argv, self.log_path, self.cpus)
        wait_s = 90 if getattr(self.args, "valgrind", None) else 15
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise Abort("%s exited at start (status %s); log %s:\n%s" %
                            (self.name, self.proc.returncode, self.log_path,
                             self.log_tail()))
            if options_ping(port, transport):
                time.sleep(0.2)  # let every child settle in
                PROCS.record_tree(self.proc)
                return
            time.sleep(0.1)
        raise Abort("%s did not answer OPTIONS on %s %d within %d s; "
                    "log %s:\n%s" % (self.name, transport, port, wait_s,
                                     self.log_path, self.log_tail()))

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        """Stops the server; returns its exit status (None: not running)."""
        status = None
        if self.proc is not None:
            status = PROCS.stop(self.proc)
            self.proc = None
        return status

    def log_tail(self, n=20):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""


class Sipd(Server):
    name = "sipd"

    def argv(self, rundir, transport, workers, port, uas_port):
        conf = os.path.join(rundir, "sipd.conf")
        route = "route add %s %s:%d" % (DOMAIN, HOST, uas_port)
        if transport == "tcp":
            route += " transport tcp"
        with open(conf, "w") as f:
            f.write("# written by bench_proxy.py\n"
                    "listener add %s %s:%d\n"
                    "%s\n"
                    "set force-rr on\n"
                    "set processors %d\n"
                    "log level all %s\n" %
                    (transport, HOST, port, route, workers,
                     self.args.sipd_log))
            if getattr(self.args, "valgrind", None):
                f.write("".join(l + "\n" for l in
                                under_valgrind.conf_lines(self.args.sipd)))
        argv = [self.args.sipd, "-f", "-c", conf,
                "-s", os.path.join(rundir, "sipd.sock")]
        if getattr(self.args, "valgrind", None):
            argv = self.args.valgrind + argv
        return argv


class SipdDns(Sipd):
    """sipd with no route for the calls' domain: bench.invalid is resolved
    (RFC 3263) through a dnsmasq started with the server, authoritative
    for it with SRV _sip._udp.bench.invalid -> uas.bench.invalid:PORT and
    uas.bench.invalid -> 127.0.0.1, TTL an hour: the first INVITE fills
    the cache, every later one is a hit.  The UAC's address is a
    client-ip: without a Router record naming the domain (the IP-literal
    case's leave to relay) the relay policy wants a client."""

    name = "sipd-dns"
    DNS_TTL = 3600

    def __init__(self, args, workdir, cpus):
        super().__init__(args, workdir, cpus)
        self.dns = None

    def label(self, workers):
        return "sipd-dns %dw" % workers

    def argv(self, rundir, transport, workers, port, uas_port):
        sys.path.insert(0, os.path.join(REPO, "tests", "lib"))
        import dnsmasq  # tests/lib: Debian's dnsmasq on a free port
        tp = "tcp" if transport == "tcp" else "udp"
        self.dns = dnsmasq.Dnsmasq([
            "--srv-host=_sip._%s.%s,uas.%s,%d,10,0" % (tp, DOMAIN, DOMAIN,
                                                       uas_port),
            "--host-record=uas.%s,%s" % (DOMAIN, HOST)],
            zone=DOMAIN, ttl=self.DNS_TTL)
        try:
            self.dns.start()
        except Exception as e:  # sipdtest's Fail or Skip
            self.dns = None
            raise Abort("dnsmasq did not start: %s" % e)
        conf = os.path.join(rundir, "sipd.conf")
        with open(conf, "w") as f:
            f.write("# written by bench_proxy.py\n"
                    "listener add %s %s:%d\n"
                    "dns server %s\n"
                    "dns negative-ttl %d\n"
                    "client-ip add %s/32\n"
                    "set force-rr on\n"
                    "set processors %d\n"
                    "log level all %s\n" %
                    (transport, HOST, port, self.dns.addr, self.DNS_TTL,
                     HOST, workers, self.args.sipd_log))
        return [self.args.sipd, "-f", "-c", conf,
                "-s", os.path.join(rundir, "sipd.sock")]

    def stop(self):
        status = super().stop()
        if self.dns is not None:
            self.dns.stop()
            self.dns.dir.cleanup()
            self.dns = None
        return status


class Kamailio(Server):
    name = "kamailio"

    def argv(self, rundir, transport, workers, port, uas_port):
        uas = "sip:%s:%d" % (HOST, uas_port)
        if transport == "tcp":
            uas += ";transport=tcp"
        argv = [self.args.kamailio, "-DD", "-E", "-f", KAMAILIO_CFG,
                "-m", str(KAM_SHM_MB), "-M", str(KAM_PKG_MB),
                "-x", self.args.kamailio_mem, "-b", str(SERVER_RCVBUF),
                "-l", "%s:%s:%d" % (transport, HOST, port),
                "-w", rundir, "-Y", rundir,
                "-A", "BENCH_CHILDREN=%d" % workers,
                "-A", 'BENCH_UAS="%s"' % uas]
        if transport == "tcp":
            argv += ["-A", "BENCH_TCP"]
        argv += self.args.kamailio_arg
        if getattr(self.args, "valgrind", None):
            argv = self.args.valgrind + ["--trace-children=yes"] + argv
        return argv


class Floor(Server):
    """bench_floor.c: a UDP relay that does no SIP work (see README.md)."""

    MODES = {"floor": [], "floor-epoll": ["-e"], "floor-uring": ["-u"]}

    def __init__(self, args, workdir, cpus, name):
        super().__init__(args, workdir, cpus)
        self.name = name

    def label(self, workers):
        return self.name

    def argv(self, rundir, transport, workers, port, uas_port):
        return ([self.args.floor] + self.MODES[self.name] +
                [HOST, str(port), str(uas_port)])


def build_floor(workdir, src=FLOOR_C, name="bench_floor", extra=()):
    """Compiles bench_floor.c (or src) into workdir; its path, or None and
    why.  extra: more arguments for cc (after the source)."""
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if cc is None:
        return None, "no C compiler (cc)"
    out = os.path.join(workdir, name)
    r = subprocess.run([cc, "-O2", "-o", out, src] + list(extra),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       universal_newlines=True)
    if r.returncode != 0:
        return None, "%s failed: %s" % (cc, r.stdout.strip()[:300])
    return out, None


# --------------------------------------------------------------------- sipp

def read_stat_csv(path):
    """sipp's -trace_stat file as a list of {column: value} rows."""
    try:
        with open(path, errors="replace") as f:
            lines = [l.rstrip("\n") for l in f if l.strip()]
    except OSError:
        return []
    if not lines:
        return []
    head = lines[0].rstrip(";").split(";")
    return [dict(zip(head, l.rstrip(";").split(";"))) for l in lines[1:]]


def _hms(s):
    try:
        h, m, sec = s.split(":")[:3]
        return int(h) * 3600 + int(m) * 60 + float(sec)
    except (ValueError, AttributeError):
        return None


def _int(row, key):
    try:
        return int(row.get(key, 0))
    except ValueError:
        return 0


class Bench:
    def __init__(self, args):
        self.args = args
        self.prof = PROFILES["quick" if args.quick else "default"]
        if args.rate:
            self.prof["rate"] = args.rate
        if getattr(args, "workers", None):
            self.prof["kam_children"] = tuple(args.workers)
        if getattr(args, "charge", None) == "steady":
            # some 75 s a run instead of 10-70
            self.prof["budget_s"] *= 2
        self.workdir = args.workdir
        self.ports = Ports()
        self.server_cpus, self.load_cpus = self.pinning()
        self.servers = {
            "sipd": Sipd(args, self.workdir, self.server_cpus),
            "sipd-dns": SipdDns(args, self.workdir, self.server_cpus),
            "kamailio": Kamailio(args, self.workdir, self.server_cpus),
            "floor": Floor(args, self.workdir, self.server_cpus, "floor"),
            "floor-epoll": Floor(args, self.workdir, self.server_cpus,
                                 "floor-epoll"),
            "floor-uring": Floor(args, self.workdir, self.server_cpus,
                                 "floor-uring"),
        }
        self.results = dict(
            started=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            profile="quick" if args.quick else "default",
            settings=dict(self.prof), environment=self.environment(),
            runs=[], errors=[])
        self.t0 = time.monotonic()
        self.seq = 0

    # ------------------------------------------------------------ set-up

    def pinning(self):
        ncpu = os.cpu_count() or 1
        if self.args.no_pin or ncpu < 2:
            return None, None
        return self.args.server_cpus, self.args.load_cpus

    def pin_text(self):
        nice = (", all at nice %d" % self.args.nice) if self.args.nice else ""
        return self._pin_text() + nice

    def _pin_text(self):
        if self.server_cpus is None:
            return ("not pinned (%s): servers and sipp share every CPU" %
                    ("--no-pin" if self.args.no_pin else "one CPU"))
        return ("servers on CPU %s (taskset -c %s; Kamailio's children "
                "inherit it; sipd's workers are threads of one process, so "
                "with 2 workers both share CPU %s); sipp UAC, sipp UAS and "
                "this script on CPU %s" %
                (self.server_cpus, self.server_cpus, self.server_cpus,
                 self.load_cpus))

    def environment(self):
        def out(argv):
            try:
                r = subprocess.run(argv, capture_output=True, text=True,
                                   timeout=10)
                return (r.stdout + r.stderr).strip().splitlines()[0]
            except (OSError, IndexError, subprocess.TimeoutExpired):
                return None
        cpu = None
        try:
            with open("/proc/cpuinfo") as f:
                for line in f:
                    if line.startswith("model name"):
                        cpu = line.split(":", 1)[1].strip()
                        break
        except OSError:
            pass
        commit = out(["git", "-C", REPO, "rev-parse", "HEAD"])
        dirty = out(["git", "-C", REPO, "status", "--porcelain",
                     "--untracked-files=no"])
        return dict(
            host=platform.node(), kernel=platform.release(), cpu=cpu,
            ncpu=os.cpu_count(), loadavg_start=self.loadavg(),
            sipd=self.args.sipd, kamailio=out([self.args.kamailio, "-v"]),
            sipp=out(["sipp", "-v"]) or None,
            commit=commit, tree_modified=bool(dirty), nice=self.args.nice,
            kamailio_shm_mb=KAM_SHM_MB, kamailio_pkg_mb=KAM_PKG_MB,
            kamailio_mem_manager=self.args.kamailio_mem,
            kamailio_extra_args=self.args.kamailio_arg)

    @staticmethod
    def loadavg():
        try:
            with open("/proc/loadavg") as f:
                return f.read().split()[:3]
        except OSError:
            return None

    def time_left(self):
        return self.prof["budget_s"] - (time.monotonic() - self.t0)

    # -------------------------------------------------------------- a run

    def run(self, server, transport, workers, rate, calls, kind,
            hold_ms=0, sample=False, grace=25.0, recv_timeout=10000,
            charge_all=False, steady=None):
        """One UAC run against a fresh server; returns the run's record.

        The UAC is stopped (SIGINT: sipp writes its last statistics) grace
        seconds after its nominal sending time; a call not finished by
        then counts as failed.  recv_timeout (ms) is sipp's per-message
        wait; the default is long enough for sipp's retransmissions to
        recover a call after a stall of the shared machine."""
        if self.time_left() < 0:
            raise Abort("time budget (%d s) spent" % self.prof["budget_s"])
        self.seq += 1
        t_run0 = time.monotonic()
        rundir = os.path.join(self.workdir, "%03d-%s-%s-%s%dw-%d" % (
            self.seq, kind, server.name, transport, workers, rate))
        os.makedirs(rundir)
        port = self.ports.get()
        uas_port, uas_cp, uas_mp = (self.ports.get(), self.ports.get(),
                                    self.ports.get(pair=True))
        uac_port, uac_cp, uac_mp = (self.ports.get(), self.ports.get(),
                                    self.ports.get(pair=True))
        t = "t1" if transport == "tcp" else "u1"
        rec = dict(seq=self.seq, kind=kind, server=server.name,
                   label=server.label(workers), transport=transport,
                   workers=workers, rate=rate, calls=calls, hold_ms=hold_ms,
                   server_cpus=self.server_cpus, load_cpus=self.load_cpus,
                   dir=rundir)
        uas = uac = None
        status = None
        try:
            uas = PROCS.start("sipp-uas", [
                "sipp", "-sf", UAS_XML, "-i", HOST, "-p", str(uas_port),
                "-cp", str(uas_cp), "-mp", str(uas_mp), "-t", t,
                "-d", str(hold_ms), "-nostdin", "-buff_size", SIPP_BUF,
                "-trace_err", "-error_file",
                os.path.join(rundir, "uas_errors.log")],
                os.path.join(rundir, "uas.out"), self.load_cpus)
            server.start(rundir, transport, workers, port, uas_port)
            self._wait_listening(uas, uas_port, transport, rundir)
            before = snapshot(server.proc.pid)
            perf = self._perf_start(server, rundir)
            recv_timeout += hold_ms
            nominal = calls / rate
            limit = max(calls if hold_ms else int(rate * 10), 100)
            stat_path = os.path.join(rundir, "uac_stat.csv")
            argv = [
                "sipp", "%s:%d" % (HOST, port), "-sf", UAC_XML, "-i", HOST,
                "-p", str(uac_port), "-cp", str(uac_cp), "-mp", str(uac_mp),
                "-t", t, "-rsa", "%s:%d" % (HOST, port),
                "-buff_size", SIPP_BUF,
                "-r", str(rate), "-rp", "1000", "-m", str(calls),
                "-l", str(limit), "-recv_timeout", str(recv_timeout),
                "-nostdin", "-trace_stat", "-stf", stat_path, "-fd", "1",
                "-trace_err", "-error_file",
                os.path.join(rundir, "uac_errors.log"),
                "-trace_screen", "-screen_file",
                os.path.join(rundir, "uac_screen.log")]
            t_start = time.monotonic()
            uac = PROCS.start("sipp-uac", argv,
                              os.path.join(rundir, "uac.out"), self.load_cpus)
            lg_before = cpu_ticks([uac.pid, uas.pid])
            deadline = nominal + hold_ms / 1000 + grace
            samples = []
            rec["cut_at_deadline"] = False
            win = (SteadyWindow(server.proc.pid, t_start, STEADY_WARM_S,
                                steady, rate) if steady else None)
            while uac.poll() is None:
                if win is not None:
                    win.poll()
                if time.monotonic() - t_start > deadline:
                    rec["cut_at_deadline"] = True
                    uac.send_signal(signal.SIGINT)
                    try:
                        uac.wait(timeout=5)
                    except subprocess.TimeoutExpired:
                        rec["error"] = "sipp UAC ignored SIGINT"
                    break
                if sample:
                    s = snapshot(server.proc.pid)
                    rows = read_stat_csv(stat_path)
                    s["t"] = round(time.monotonic() - t_start, 2)
                    s["uac_current_calls"] = (
                        _int(rows[-1], "CurrentCall") if rows else None)
                    s["uac_created"] = (
                        _int(rows[-1], "TotalCallCreated") if rows else None)
                    samples.append(s)
                    time.sleep(0.25)
                else:
                    time.sleep(0.05)
            wall = time.monotonic() - t_start
            lg_after = cpu_ticks([uac.pid, uas.pid])
            if transport == "udp":
                drops = udp_drops([port, uas_port, uac_port])
                rec["udp_drops"] = {"server": drops[port],
                                    "uas": drops[uas_port],
                                    "uac": drops[uac_port]}
            after = snapshot(server.proc.pid)
            if perf is not None:
                rec["perf"] = self._perf_stop(perf)
            alive = server.alive()
            PROCS.stop(uac)
            rec["uac_status"] = uac.returncode
            time.sleep(0.5)
            settled = snapshot(server.proc.pid) if server.alive() else None
            rec.update(self._account(before, after, settled, wall,
                                     lg_after - lg_before, nominal))
            if win is not None:
                win.charge(rec)
            elif charge_all:
                self._quiesce(server, rec, before)
            rec.update(self._sipp_stats(stat_path, calls, nominal))
            rec["server_alive"] = alive and server.alive()
            if samples:
                rec["samples"] = samples
            if not rec["server_alive"]:
                rec["error"] = ("%s died during the run; log %s:\n%s" %
                                (server.name, server.log_path,
                                 server.log_tail()))
        finally:
            if uac is not None:
                PROCS.stop(uac)
            status = server.stop()
            if uas is not None:
                PROCS.stop(uas)
            self.ports.release(port, uas_port, uas_cp, uas_mp, uac_port,
                               uac_cp, uac_mp)
        rec["server_status"] = status
        rec["run_s"] = round(time.monotonic() - t_run0, 2)
        self.results["runs"].append(rec)
        return rec

    def run_lg(self, server, transport, workers, rate, calls, kind,
               grace=25.0, charge_all=False, steady=None, sched=None):
        """One run of loadgen (caller and callee in one process) against a
        fresh server; the same record as run().  sched "sipp": the calls
        leave as sipp's scheduler releases them (loadgen -S)."""
        if self.time_left() < 0:
            raise Abort("time budget (%d s) spent" % self.prof["budget_s"])
        self.seq += 1
        t_run0 = time.monotonic()
        rundir = os.path.join(self.workdir, "%03d-%s-%s-%s%dw-%d" % (
            self.seq, kind, server.name, transport, workers, rate))
        os.makedirs(rundir)
        port, uas_port, uac_port = (self.ports.get(), self.ports.get(),
                                    self.ports.get())
        rec = dict(seq=self.seq, kind=kind, server=server.name,
                   label=server.label(workers), transport=transport,
                   workers=workers, rate=rate, calls=calls, hold_ms=0,
                   driver="loadgen", lg_sched=sched or (
                       "burst %d ms" % self.args.lg_burst
                       if self.args.lg_burst else "even"),
                   server_cpus=self.server_cpus,
                   load_cpus=self.load_cpus, dir=rundir)
        lg = None
        status = None
        try:
            server.start(rundir, transport, workers, port, uas_port)
            rec["server_rcvbuf"] = (sock_rcvbuf(port) if transport == "udp"
                                    else None)
            before = snapshot(server.proc.pid)
            snmp0 = udp_rcvbuf_errors()
            nominal = calls / rate
            argv = [self.args.loadgen, "-t", transport, "-r", str(rate),
                    "-n", str(calls), "-T", str(int(nominal + grace)),
                    "-i", HOST, "-s", str(port), "-p", str(uac_port),
                    "-u", str(uas_port)]
            if sched == "sipp":
                argv += ["-S"]
            elif self.args.lg_burst:
                argv += ["-B", str(self.args.lg_burst)]
            out_path = os.path.join(rundir, "loadgen.out")
            t_start = time.monotonic()
            lg = PROCS.start("loadgen", argv, out_path, self.load_cpus)
            lg_before = cpu_ticks([lg.pid])
            lg_ticks = 0
            drops = dict.fromkeys((port, uas_port, uac_port), 0)
            polled = 0.0
            win = (SteadyWindow(server.proc.pid, t_start, STEADY_WARM_S,
                                steady, rate) if steady else None)
            while lg.poll() is None:
                if win is not None:
                    win.poll()
                if transport == "udp" and time.monotonic() - polled > 0.5:
                    # loadgen's sockets go when it exits: read them live
                    polled = time.monotonic()
                    for k, v in udp_drops(list(drops)).items():
                        drops[k] = max(drops[k], v)
                if time.monotonic() - t_start > nominal + grace + 10:
                    lg.send_signal(signal.SIGINT)
                    try:
                        lg.wait(timeout=5)
                    except subprocess.TimeoutExpired:
                        rec["error"] = "loadgen ignored SIGINT"
                    break
                t = cpu_ticks([lg.pid])
                if t:
                    lg_ticks = t - lg_before
                time.sleep(0.05)
            wall = time.monotonic() - t_start
            if transport == "udp":
                drops[port] = udp_drops([port])[port]
                rec["udp_drops"] = {"server": drops[port],
                                    "uas": drops[uas_port],
                                    "uac": drops[uac_port]}
            snmp1 = udp_rcvbuf_errors()
            if snmp0 is not None and snmp1 is not None:
                rec["rcvbuf_errors"] = snmp1 - snmp0
            after = snapshot(server.proc.pid)
            alive = server.alive()
            PROCS.stop(lg)
            time.sleep(0.5)
            settled = snapshot(server.proc.pid) if server.alive() else None
            rec.update(self._account(before, after, settled, wall,
                                     lg_ticks, nominal))
            if win is not None:
                win.charge(rec)
            elif charge_all:
                self._quiesce(server, rec, before)
            rec.update(self._lg_stats(out_path, calls, nominal))
            rec["server_alive"] = alive and server.alive()
            if not rec["server_alive"]:
                rec["error"] = ("%s died during the run; log %s:\n%s" %
                                (server.name, server.log_path,
                                 server.log_tail()))
        finally:
            if lg is not None:
                PROCS.stop(lg)
            status = server.stop()
            self.ports.release(port, uas_port, uac_port)
        rec["server_status"] = status
        rec["run_s"] = round(time.monotonic() - t_run0, 2)
        self.results["runs"].append(rec)
        return rec

    @staticmethod
    def _lg_stats(path, calls, nominal):
        """loadgen's last line of counts as the fields _sipp_stats gives."""
        kv = {}
        try:
            with open(path, errors="replace") as f:
                for line in f:
                    if line.startswith("loadgen: "):
                        kv = dict(t.split("=", 1) for t in
                                  line.split()[1:] if "=" in t)
        except OSError:
            pass
        if not kv:
            return dict(successful=0, failed=calls, failed_pct=100.0,
                        stats_missing=True)

        def num(k):
            try:
                return float(kv.get(k, 0))
            except ValueError:
                return 0.0
        ok = int(num("ok"))
        failed = calls - ok
        return dict(
            created=int(num("created")), successful=ok, failed=failed,
            failed_pct=round(100.0 * failed / calls, 3),
            failed_detail={k: int(num(k)) for k in (
                "fail_status", "fail_timeout", "fail_deadline")
                if num(k)},
            retransmissions=int(num("retrans")),
            stray_msgs=int(num("stray")),
            all_sent_at_s=num("last_created_s"),
            max_lag_ms=int(num("max_lag_ms")),
            # every call offered on time: none later than 50 ms
            offered_rate_kept=(int(num("created")) == calls
                               and num("max_lag_ms") <= 50),
            calls_per_cpu_s=None)

    @staticmethod
    def _quiesce(server, rec, before):
        """Keeps the server up until the work its calls left behind is
        done (LINGER_S after the last one, then until its CPU stops
        moving for a second) and charges all of it to the run."""
        deadline = time.monotonic() + server.linger_s + 10
        time.sleep(server.linger_s)
        last = snapshot(server.proc.pid, pss=False)
        while server.alive() and time.monotonic() < deadline:
            time.sleep(1.0)
            now = snapshot(server.proc.pid, pss=False)
            if now["cpu_ticks"] == last["cpu_ticks"]:
                break
            last = now
        rec["server_cpu_window_s"] = rec["server_cpu_s"]
        rec["server_cpu_s"] = round(
            (last["cpu_ticks"] - before["cpu_ticks"]) / TICK, 3)
        rec["server_cpu_deferred_s"] = round(
            rec["server_cpu_s"] - rec["server_cpu_window_s"], 3)
        rec["server_sleeps"] = last["sleeps"] - before["sleeps"]
        rec["linger_s"] = server.linger_s

    def _perf_start(self, server, rundir):
        """With --perf: perf record on the server's process tree."""
        if not self.args.perf:
            return None
        path = os.path.join(rundir, "perf.data")
        pids = ",".join(str(p) for p in proc_tree(server.proc.pid))
        proc = subprocess.Popen(
            ["perf", "record", "-q", "-g", "-e", "cpu-clock", "-p", pids,
             "-o", path], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        time.sleep(0.5)  # attached before the first call
        return proc, path

    @staticmethod
    def _perf_stop(perf):
        proc, path = perf
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        return path

    @staticmethod
    def _wait_listening(uas, port, transport, rundir):
        """sipp's UAS has bound its port (it is up before the server)."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if uas.poll() is not None:
                raise Abort("sipp UAS exited (status %s); see %s" %
                            (uas.returncode, rundir))
            kind = (socket.SOCK_STREAM if transport == "tcp"
                    else socket.SOCK_DGRAM)
            s = socket.socket(socket.AF_INET, kind)
            try:
                s.bind((HOST, port))
            except OSError:
                return
            finally:
                s.close()
            time.sleep(0.05)
        raise Abort("sipp UAS did not bind %s %d" % (transport, port))

    @staticmethod
    def _account(before, after, settled, wall, lg_ticks, nominal):
        cpu = (after["cpu_ticks"] - before["cpu_ticks"]) / TICK
        return dict(
            wall_s=round(wall, 3), nominal_s=round(nominal, 3),
            server_cpu_s=round(cpu, 3),
            server_sleeps=after["sleeps"] - before["sleeps"],
            server_util=round(cpu / wall, 3) if wall else None,
            server_pids=after["pids"], server_threads=after["threads"],
            rss_start_kb=before["rss_kb"], pss_start_kb=before["pss_kb"],
            # VmHWM never falls: the later reading is the run's peak
            hwm_kb=max(after["hwm_kb"], settled["hwm_kb"] if settled else 0),
            rss_end_kb=after["rss_kb"],
            pss_end_kb=after["pss_kb"],
            rss_after_kb=settled["rss_kb"] if settled else None,
            pss_after_kb=settled["pss_kb"] if settled else None,
            load_cpu_s=round(lg_ticks / TICK, 3),
            load_util=round(lg_ticks / TICK / wall, 3) if wall else None)

    @staticmethod
    def _sipp_stats(path, calls, nominal):
        rows = read_stat_csv(path)
        if not rows:
            return dict(successful=0, failed=calls, failed_pct=100.0,
                        stats_missing=True)
        last = rows[-1]
        ok = _int(last, "SuccessfulCall(C)")
        created = _int(last, "TotalCallCreated")
        # the second the last call was created: did sipp offer the rate?
        sent_at = None
        for r in rows:
            if _int(r, "TotalCallCreated") >= calls:
                sent_at = _hms(r.get("ElapsedTime(C)"))
                break
        failed = calls - ok  # calls never made or never finished count
        detail = {k[len("Failed"):-3]: _int(last, k) for k in last
                  if k.startswith("Failed") and k.endswith("(C)")
                  and k != "FailedCall(C)" and _int(last, k)}
        return dict(
            created=created, successful=ok, failed=failed,
            failed_pct=round(100.0 * failed / calls, 3),
            sipp_failed=_int(last, "FailedCall(C)"), failed_detail=detail,
            retransmissions=_int(last, "Retransmissions(C)"),
            dead_call_msgs=_int(last, "DeadCallMsgs(C)"),
            out_of_call_msgs=_int(last, "OutOfCallMsgs(C)"),
            all_sent_at_s=sent_at,
            offered_rate_kept=(sent_at is not None
                               and sent_at <= nominal + 2),
            calls_per_cpu_s=None)

    # ------------------------------------------------------------- phases

    def fixed(self, transport, seconds, names=("sipd", "kamailio")):
        """The same rate and calls for each server, alternating."""
        rate = self.prof["rate"]
        calls = int(rate * seconds)
        steady = None
        if self.args.charge == "steady":
            calls, steady = steady_calls(rate, seconds)
        out = {name: [] for name in names}
        for rep in range(self.prof["reps"]):
            order = names if rep % 2 == 0 else tuple(reversed(names))
            for name in order:
                rec = self.run(self.servers[name], transport, 1, rate, calls,
                               "fixed-%s" % transport,
                               charge_all=self.args.charge == "quiescence"
                               and name in LINGER_S, steady=steady)
                rec["rep"] = rep
                self._per_call(rec)
                out[name].append(rec)
                self.line(rec)
        return out

    def fixed_lg(self, transport, rate, names, sched=None, seconds=None,
                 reps=None):
        """loadgen at rate against each of names, alternating, every run
        charged to quiescence; calls per CPU-second and sleeps per call.
        sched "sipp": loadgen paced as sipp (-S), for the cross-check."""
        seconds = seconds or self.prof["lg_s"][rate]
        calls = int(rate * seconds)
        steady = None
        if self.args.charge == "steady":
            calls, steady = steady_calls(rate, seconds)
        out = {name: [] for name in names}
        for rep in range(reps or self.prof["lg_reps"]):
            k = rep % len(names)
            order = names[k:] + names[:k]
            for name in order:
                rec = self.run_lg(self.servers[name], transport, 1, rate,
                                  calls, "lg%s-%s" % (
                                      "-sipp" if sched else "", transport),
                                  charge_all=self.args.charge ==
                                  "quiescence", steady=steady, sched=sched)
                rec["rep"] = rep
                self._per_call(rec)
                out[name].append(rec)
                self.line(rec)
        return out

    @staticmethod
    def _per_call(rec):
        # steady: the calls offered in the window, if every call succeeded
        n = rec["successful"]
        if rec.get("calls_counted") is not None and not rec["failed"]:
            n = rec["calls_counted"]
        if rec["server_cpu_s"] > 0:
            rec["calls_per_cpu_s"] = round(n / rec["server_cpu_s"], 1)
        if n:
            rec["sleeps_per_call"] = round(rec["server_sleeps"] / n, 2)

    def probe(self, name, workers, rate):
        calls = int(rate * self.prof["probe_s"])
        if self.args.loadgen:
            rec = self.run_lg(self.servers[name], "udp", workers, rate,
                              calls, "search", grace=PROBE_GRACE_S)
        else:
            rec = self.run(self.servers[name], "udp", workers, rate, calls,
                           "search", grace=PROBE_GRACE_S,
                           recv_timeout=PROBE_GRACE_S * 1000 - 1000)
        fails = rec["failed"] > FAIL_LIMIT * calls
        rec["passed"] = (not fails and rec["offered_rate_kept"]
                         and rec.get("error") is None)
        # the load generator could not offer the rate while its CPU was
        # busy: it, not the server, set the limit
        rec["load_bound"] = (not rec["offered_rate_kept"]
                             and (rec["load_util"] or 0) > 0.85)
        rec["why"] = self.why(rec)
        self.line(rec)
        return rec

    @staticmethod
    def why(rec):
        """Why a probe failed, from what was measured: drops on which
        socket, the server's CPU share, the load generator."""
        if rec.get("passed"):
            return None
        parts = []
        d = rec.get("udp_drops") or {}
        if d.get("server"):
            parts.append("%d datagrams dropped at the server's socket "
                         "(receive buffer %s B)" % (
                             d["server"], rec.get("server_rcvbuf")))
        lg = (d.get("uas") or 0) + (d.get("uac") or 0)
        if lg:
            parts.append("%d dropped at the load generator's sockets" % lg)
        other = (rec.get("rcvbuf_errors") or 0) - sum(d.values())
        if other > 0:
            parts.append("%d RcvbufErrors elsewhere (other processes)" %
                         other)
        if (rec.get("server_util") or 0) >= 0.95:
            parts.append("server CPU saturated (%.0f%%)" %
                         (100 * rec["server_util"]))
        if rec.get("load_bound"):
            parts.append("load generator behind (CPU %.0f%%)" %
                         (100 * (rec.get("load_util") or 0)))
        elif not rec.get("offered_rate_kept"):
            parts.append("rate not offered on time (load generator %s ms "
                         "behind at worst, CPU %.0f%%)" % (
                             rec.get("max_lag_ms", "?"),
                             100 * (rec.get("load_util") or 0)))
        if rec.get("error"):
            parts.append(rec["error"].splitlines()[0])
        if not parts:
            parts.append("%d calls failed (%s)" % (
                rec["failed"], rec.get("failed_detail")))
        return "; ".join(parts) + "; server CPU %.0f%%" % (
            100 * (rec.get("server_util") or 0))

    def search(self, name, workers):
        """Highest rate with fewer than 0.1 % failed calls: double, then
        bisect, every probe on a fresh server."""
        r = self.prof["search_start"]
        lo = hi = None
        note = None
        probes = []
        while r <= self.prof["search_max"]:
            rec = self.probe(name, workers, r)
            probes.append(rec)
            if rec["passed"]:
                lo = r
                r *= 2
                continue
            hi = r
            if rec["load_bound"]:
                note = "load generator limit"
            break
        if hi is None and lo is not None:
            note = "search ceiling"
        for _ in range(self.prof["bisect"]):
            if lo is None or hi is None or note or hi - lo <= 50:
                break
            mid = (lo + hi) // 2 // 10 * 10
            rec = self.probe(name, workers, mid)
            probes.append(rec)
            if rec["passed"]:
                lo = mid
            else:
                if rec["load_bound"]:
                    note = "load generator limit"
                hi = mid
        failing = [p for p in probes if p["rate"] == hi]
        passing = [p for p in probes if p["passed"] and p["rate"] == lo]
        return dict(server=name, workers=workers, max_rate=lo,
                    first_failing=hi, note=note,
                    util_at_max=(passing[0]["server_util"] if passing
                                 else None),
                    util_failing=(failing[0]["server_util"] if failing
                                  else None),
                    why=failing[0]["why"] if failing else None,
                    driver="loadgen" if self.args.loadgen else "sipp",
                    probes=[p["seq"] for p in probes])

    def instructions(self, name):
        """User-space instructions per call: two UDP runs under callgrind
        with different numbers of calls, each kept up until quiescent;
        the difference over the difference in calls leaves out start-up
        and shut-down (deterministic, unlike the clock)."""
        rate = self.prof["cg_rate"]
        irs = []
        for n in self.prof["cg_calls"]:
            pattern = os.path.join(self.workdir, "callgrind-%s-%d" % (name,
                                                                   n))
            self.args.valgrind = ["valgrind", "--tool=callgrind",
                                  "--callgrind-out-file=%s.%%p" % pattern]
            try:
                rec = self.run_lg(self.servers[name], "udp", 1, rate, n,
                                  "callgrind", charge_all=True)
            finally:
                self.args.valgrind = None
            self.line(rec)
            if rec["failed"]:
                return dict(server=name, error="%d calls failed under "
                            "callgrind (run #%d)" % (rec["failed"],
                                                     rec["seq"]))
            total = 0
            for f in os.listdir(self.workdir):
                if f.startswith(os.path.basename(pattern) + "."):
                    total += callgrind_ir(os.path.join(self.workdir, f))
            irs.append(total)
        n1, n2 = self.prof["cg_calls"]
        per = (irs[1] - irs[0]) / (n2 - n1)
        print("  callgrind %-9s %d calls: %d Ir, %d calls: %d Ir; %.0f "
              "instructions per call" % (name, n1, irs[0], n2, irs[1], per),
              flush=True)
        return dict(server=name, calls=[n1, n2], ir=irs,
                    instructions_per_call=round(per))

    def hold(self, name):
        """N calls ringing at once: RSS and PSS growth per call."""
        n = self.prof["hold_n"]
        rate = self.prof["hold_rate"]
        setup = n / rate
        hold_ms = int((setup + 4) * 1000)
        rec = self.run(self.servers[name], "udp", 1, rate, n, "hold",
                       hold_ms=hold_ms, sample=True, grace=15.0)
        # the plateau: after every INVITE went out, before the first 200
        window = [s for s in rec.get("samples", [])
                  if setup + 1.0 <= s["t"] <= hold_ms / 1000 - 0.5]
        res = dict(server=name, calls=n, rate=rate, hold_ms=hold_ms,
                   run=rec["seq"], completed=rec["successful"])
        if window:
            peak = max(window, key=lambda s: s["rss_kb"])
            res.update(
                ringing=peak["uac_current_calls"],
                rss_base_kb=rec["rss_start_kb"], rss_held_kb=peak["rss_kb"],
                pss_base_kb=rec["pss_start_kb"], pss_held_kb=peak["pss_kb"],
                rss_bytes_per_call=round(
                    (peak["rss_kb"] - rec["rss_start_kb"]) * 1024 / n),
                pss_bytes_per_call=round(
                    (peak["pss_kb"] - rec["pss_start_kb"]) * 1024 / n))
        else:
            res["error"] = "no sample while every call was ringing"
        print("  hold %-12s %d calls ringing (UAC counted %s): RSS +%s B, "
              "PSS +%s B per call; %d/%d completed" % (
                  name, n, res.get("ringing"),
                  res.get("rss_bytes_per_call"),
                  res.get("pss_bytes_per_call"), rec["successful"], n),
              flush=True)
        if name == "sipd":
            # the exact figure behind the pages: the allocator's
            # (bench_ringmem.py, see README.md)
            import bench_ringmem
            try:
                heap = bench_ringmem.measure(self.args.sipd, calls=n,
                                             warm=200)
                res["heap_bytes_per_call"] = heap["heap_bytes_per_call"]
                print("  hold %-12s heap +%.0f B per call "
                      "(bench_ringmem.py, %d calls)" % (
                          name, heap["heap_bytes_per_call"], n), flush=True)
            except Exception as e:  # reported, the run goes on
                res["heap_error"] = str(e)
                print("  hold %-12s heap not measured (%s)" % (name, e),
                      flush=True)
        return res

    @staticmethod
    def line(rec):
        cps = rec.get("calls_per_cpu_s")
        flags = []
        if rec.get("passed") is not None:
            flags.append("pass" if rec["passed"] else "FAIL")
        if rec.get("load_bound"):
            flags.append("sipp-bound")
        if rec.get("error"):
            flags.append("ERROR")
        if rec.get("server_cpu_deferred_s") is not None:
            flags.append("%.2fs of it after the calls" %
                         rec["server_cpu_deferred_s"])
        if rec.get("why"):
            flags.append("(%s)" % rec["why"])
        d = rec.get("udp_drops")
        if d and any(d.values()):
            flags.append("drops " + ",".join(
                "%s:%d" % (k, v) for k, v in d.items() if v))
        print("  #%-3d %-6s %-4s %-12s %5d/s %6d calls: %6d ok %5d failed, "
              "wall %5.1fs, server CPU %6.2fs (%3.0f%%), %s CPU %3.0f%%%s%s"
              % (rec["seq"], rec["kind"].split("-")[0], rec["transport"],
                 rec["label"], rec["rate"], rec["calls"], rec["successful"],
                 rec["failed"], rec["wall_s"], rec["server_cpu_s"],
                 100 * (rec["server_util"] or 0),
                 rec.get("driver", "sipp"), 100 * (rec["load_util"] or 0),
                 ", %.0f calls/CPU-s" % cps if cps else "",
                 (" [" + " ".join(flags) + "]") if flags else ""),
              flush=True)


def callgrind_ir(path):
    """Instructions (Ir) in a callgrind output file: its totals line."""
    total = 0
    try:
        with open(path, errors="replace") as f:
            for line in f:
                if line.startswith(("totals:", "summary:")):
                    total = int(line.split()[1])
                    if line.startswith("totals:"):
                        break
    except (OSError, ValueError, IndexError):
        pass
    return total


# ------------------------------------------------------------------ report

def med(vals):
    vals = [v for v in vals if v is not None]
    if not vals:
        return None, None, None
    return statistics.median(vals), min(vals), max(vals)


def fmt(triple, scale=1.0, nd=0):
    m, lo, hi = triple
    if m is None:
        return "-"
    f = "%%.%df" % nd
    return "%s (%s-%s)" % (f % (m / scale), f % (lo / scale), f % (hi / scale))


def fixed_table(title, runs):
    print("\n%s" % title)
    print("  %-12s %-24s %-8s %-22s %-22s %-22s %-16s %s" % (
        "server", "calls/CPU-s", "failed", "peak RSS MB (VmHWM)",
        "RSS after MB", "PSS after MB", "server CPU-s", "sleeps/call"))
    summary = {}
    for name, recs in runs.items():
        if not recs:
            continue
        cps = med([r.get("calls_per_cpu_s") for r in recs])
        summary[name] = dict(
            calls_per_cpu_s=cps,
            failed=sum(r["failed"] for r in recs),
            calls=sum(r["calls"] for r in recs),
            hwm_kb=med([r["hwm_kb"] for r in recs]),
            rss_after_kb=med([r["rss_after_kb"] for r in recs]),
            pss_after_kb=med([r["pss_after_kb"] for r in recs]),
            cpu_s=med([r["server_cpu_s"] for r in recs]),
            sleeps_per_call=med([r.get("sleeps_per_call") for r in recs]),
            runs=[r["seq"] for r in recs])
        s = summary[name]
        print("  %-12s %-24s %-8s %-22s %-22s %-22s %-16s %s" % (
            recs[0]["label"], fmt(cps), "%d/%d" % (s["failed"], s["calls"]),
            fmt(s["hwm_kb"], 1024, 1), fmt(s["rss_after_kb"], 1024, 1),
            fmt(s["pss_after_kb"], 1024, 1), fmt(s["cpu_s"], 1, 2),
            fmt(s["sleeps_per_call"], 1, 2)))
    return summary


def lg_report(runs, p):
    """The side-by-side table of the loadgen runs: per transport and
    rate, each server's calls per CPU-second, its share of the floor,
    sleeps per call and the CPU its deferred work took."""
    out = {}
    for transport in ("udp", "tcp"):
        print("\nloadgen, %s, 1 worker: median (min-max) of %d run(s) per "
              "rate; share = calls/CPU-s over the floor's (UDP only: the "
              "floor relays datagrams)" % (transport.upper(), p["lg_reps"]))
        print("  %-6s %-10s %-24s %-7s %-18s %-18s %s" % (
            "rate", "server", "calls/CPU-s", "share", "sleeps/call",
            "deferred CPU-s", "failed"))
        for rate in p["rates"]:
            key = "%s-%d" % (transport, rate)
            table = runs.get(key)
            if not table:
                continue
            summ = out[key] = {}
            for name, recs in table.items():
                summ[name] = dict(
                    calls_per_cpu_s=med([r.get("calls_per_cpu_s")
                                         for r in recs]),
                    sleeps_per_call=med([r.get("sleeps_per_call")
                                         for r in recs]),
                    deferred_s=med([r.get("server_cpu_deferred_s")
                                    for r in recs]),
                    cpu_s=med([r["server_cpu_s"] for r in recs]),
                    failed=sum(r["failed"] for r in recs),
                    calls=sum(r["calls"] for r in recs),
                    runs=[r["seq"] for r in recs])
            floor = (summ.get("floor") or {}).get("calls_per_cpu_s",
                                                  (None,))[0]
            for name, sm in summ.items():
                c = sm["calls_per_cpu_s"][0]
                share = ("%.2f" % (c / floor) if c and floor
                         and name != "floor" else "-")
                sm["share_of_floor"] = c / floor if c and floor else None
                print("  %-6d %-10s %-24s %-7s %-18s %-18s %d/%d" % (
                    rate, name, fmt(sm["calls_per_cpu_s"]), share,
                    fmt(sm["sleeps_per_call"], 1, 2),
                    fmt(sm["deferred_s"], 1, 2), sm["failed"],
                    sm["calls"]))
            s_, k_ = (summ.get("sipd") or {}), (summ.get("kamailio") or {})
            if s_.get("calls_per_cpu_s", (None,))[0] and \
                    k_.get("calls_per_cpu_s", (None,))[0]:
                print("  %-6d ratio sipd/kamailio %.2f" % (
                    rate, s_["calls_per_cpu_s"][0] /
                    k_["calls_per_cpu_s"][0]))
    return out


def xcheck_table(runs):
    """The loadgen -S runs: per transport, each server's medians."""
    out = {}
    for key, table in runs.items():
        print("\nloadgen -S (sipp's pacing), %s: median (min-max)" % key)
        out[key] = {}
        for name, recs in table.items():
            # a run that broke (the server died, calls failed) measures
            # that, not the CPU per call
            good = [r for r in recs if not r.get("error")
                    and not r["failed"]] or recs
            sm = out[key][name] = dict(
                calls_per_cpu_s=med([r.get("calls_per_cpu_s")
                                     for r in good]),
                sleeps_per_call=med([r.get("sleeps_per_call")
                                     for r in good]),
                failed=sum(r["failed"] for r in recs),
                calls=sum(r["calls"] for r in recs),
                runs=[r["seq"] for r in good])
            print("  %-10s calls/CPU-s %-24s sleeps/call %-18s failed %d/%d"
                  % (name, fmt(sm["calls_per_cpu_s"]),
                     fmt(sm["sleeps_per_call"], 1, 2), sm["failed"],
                     sm["calls"]))
    return out


def cross_check(summ, rate):
    """loadgen against sipp where both drive (the sipp phases' rate, 500
    calls/s unless --rate): each server's CPU per call with sipp, with
    loadgen paced as sipp's scheduler releases calls (-S: the agreement
    that counts) and evenly paced (for comparison), and how far apart."""
    pairs = (("udp", "udp-%d" % rate), ("tcp", "tcp-%d" % rate))
    printed = False
    verdicts = []
    for sipp_key, lg_key in pairs:
        for name in ("sipd", "kamailio"):
            a = ((summ.get(sipp_key) or {}).get(name) or {}).get(
                "calls_per_cpu_s")
            if not a or not a[0]:
                continue
            figs = []
            for label, src in (("loadgen -S (sipp's pacing)", "lg_sipp"),
                               ("loadgen evenly paced", "lg")):
                b = ((summ.get(src, {}).get(lg_key) or {}).get(name) or {}
                     ).get("calls_per_cpu_s")
                if b and b[0]:
                    figs.append((label, src, b))
            if not figs:
                continue
            if not printed:
                print("\nCross-check at %d calls/s: server CPU per call "
                      "driven by sipp and by loadgen (medians; target: "
                      "within 10 %%)" % rate)
                printed = True
            us_a = 1e6 / a[0]
            for label, src, b in figs:
                us_b = 1e6 / b[0]
                diff = 100.0 * (us_b - us_a) / us_a
                ok = abs(diff) <= 10
                if src == "lg_sipp":
                    verdicts.append(ok)
                print("  %-4s %-9s sipp %.1f us/call, %s %.1f us/call: "
                      "%+.1f %% %s" % (sipp_key.upper(), name, us_a, label,
                                       us_b, diff, "(agree: within 10 %)"
                                       if ok else "(APART: more than 10 %)"))
    if verdicts:
        print("  cross-check (sipp against loadgen -S): %s" % (
            "agrees" if all(verdicts) else "does NOT agree"))
    return all(verdicts) if verdicts else None


def dns_report(table):
    """The DNS-routed case against the IP-literal one: calls per
    CPU-second of each, and what a cache hit costs as a share of a call's
    CPU (1 - literal's CPU per call over DNS's)."""
    ip = (table.get("sipd") or {}).get("calls_per_cpu_s", (None,))[0]
    dns = (table.get("sipd-dns") or {}).get("calls_per_cpu_s", (None,))[0]
    if not ip or not dns:
        print("  DNS-routed vs IP literal: no figure (a run failed)")
        return None
    share = (ip / dns - 1.0) * 100.0
    print("  DNS-routed (cache hit) %.0f calls/CPU-s vs IP literal %.0f: "
          "a hit costs %.1f %% of a call's CPU (target: under 5 %%)" % (
              dns, ip, share))
    return share


def floor_report(udp, floor):
    """How far each server is from the floor, and where twice Kamailio's
    figure would sit."""
    def cps(table, name):
        v = (table.get(name) or {}).get("calls_per_cpu_s")
        return v[0] if v and v[0] else None

    kam = cps(udp, "kamailio")
    for fname, what in (("floor", "blocking recvmmsg/sendmmsg"),
                        ("floor-epoll", "epoll_wait, then recvmmsg"),
                        ("floor-uring", "io_uring: multishot recvmsg, "
                         "sends and wait in one io_uring_enter")):
        f = cps(floor, fname)
        if f is None:
            continue
        parts = []
        for name in ("sipd", "kamailio"):
            c = cps(udp, name)
            if c:
                parts.append("%s %.0f%% of it (%.1f us/call above it)" % (
                    name, 100 * c / f, 1e6 / c - 1e6 / f))
        if kam:
            parts.append("twice Kamailio would be %.0f%% of it" % (
                200 * kam / f))
        print("  %-12s (%s): %.0f calls/CPU-s, %.1f us/call; %s" % (
            fname, what, f, 1e6 / f, "; ".join(parts)))


def main():
    ap = argparse.ArgumentParser(
        description="sipd's proxy against Kamailio's, side by side "
        "(tests/bench/README.md)")
    ap.add_argument("--quick", action="store_true",
                    help="a ~2-3 minute smoke run")
    ap.add_argument("--sipd", default=os.path.join(REPO, "build", "sipd",
                                                   "sipd"),
                    help="the sipd binary (default: build/sipd/sipd)")
    ap.add_argument("--kamailio", default=shutil.which("kamailio") or
                    "/usr/sbin/kamailio", help="the kamailio binary")
    ap.add_argument("--kamailio-mem", default=KAM_MEM_MANAGER,
                    choices=("tlsf", "fm", "qm"),
                    help="Kamailio's memory manager, -x (default %s)" %
                    KAM_MEM_MANAGER)
    ap.add_argument("--kamailio-arg", action="append", default=[],
                    help="one more kamailio argument (repeat the option)")
    ap.add_argument("--rate", type=int, help="the fixed offered call rate")
    ap.add_argument("--server-cpus", default="1",
                    help="taskset list for the servers (default 1)")
    ap.add_argument("--load-cpus", default="0",
                    help="taskset list for sipp and this script (default 0)")
    ap.add_argument("--no-pin", action="store_true", help="no taskset")
    ap.add_argument("--nice", type=int, default=0,
                    help="run the servers and sipp at this nice value "
                    "(e.g. -10 as root on a busy shared machine; default 0)")
    ap.add_argument("--json", help="where to write every probe "
                    "(default: results.json in the run's directory)")
    ap.add_argument("--sipd-log", default="none",
                    choices=("none", "failure", "major", "problems",
                             "low-level", "all"),
                    help="sipd's log level (default none, as measured)")
    ap.add_argument("--charge", choices=("quiescence", "steady", "window"),
                    default="quiescence",
                    help="fixed-rate runs: keep each server up until the "
                    "work its calls left is done and charge it all "
                    "(default), or a window after a warm-up, both over "
                    "64*T1, while calls go on (steady: no run's end, "
                    "some 75 s a run), or only the calls' window (faster, "
                    "favours the server that defers more)")
    ap.add_argument("--loadgen", help="the loadgen binary (default: "
                    "built from loadgen.c into the run's directory)")
    ap.add_argument("--lg-burst", type=int, default=0, metavar="MS",
                    help="loadgen releases the calls due every MS ms "
                    "instead of one by one (default 0: evenly paced)")
    ap.add_argument("--workers", type=lambda v: [int(x) for x in
                                                 v.split(",")],
                    help="the highest-rate search: sipd's workers and "
                    "Kamailio's children to try, e.g. 1,2,4,8,16 on a "
                    "larger machine (default: sipd 1,2; Kamailio 1,2,4,8)")
    ap.add_argument("--only", choices=("fixed", "floor", "tcp", "lg",
                                       "xcheck", "instr", "search", "hold",
                                       "dns"),
                    action="append", help="run only these phases "
                    "(no ratio line)")
    ap.add_argument("--callgrind", action="store_true",
                    help="instead: one low-rate UDP run of sipd under "
                    "valgrind --tool=callgrind, and its top functions")
    ap.add_argument("--perf", action="store_true",
                    help="instead: alternating fixed-rate UDP runs of both "
                    "servers under perf record, and where each one's CPU "
                    "goes (user space, send, receive, epoll, page faults)")
    args = ap.parse_args()
    args.valgrind = None
    if args.workers and any(w < 1 or w > 64 for w in args.workers):
        ap.error("--workers: each from 1 to 64")

    missing = []
    if not os.path.exists(args.kamailio) or not os.access(args.kamailio,
                                                          os.X_OK):
        missing.append("kamailio not found (%s): install Debian's package "
                       "with `apt-get install -y kamailio` (Debian 12: "
                       "Kamailio 5.6), or give --kamailio PATH" %
                       args.kamailio)
    if shutil.which("sipp") is None:
        missing.append("sipp not found: `apt-get install -y sip-tester`")
    if shutil.which("taskset") is None and not args.no_pin:
        missing.append("taskset not found: `apt-get install -y util-linux`"
                       " or use --no-pin")
    if not os.access(args.sipd, os.X_OK):
        missing.append("sipd not found at %s: build it (cmake -S . -B build "
                       "-DCMAKE_BUILD_TYPE=Release && cmake --build build) "
                       "or give --sipd PATH" % args.sipd)
    if (args.callgrind or not args.only or "instr" in args.only) and \
            shutil.which("valgrind") is None:
        missing.append("valgrind not found: `apt-get install -y valgrind`")
    if args.perf and shutil.which("perf") is None:
        missing.append("perf not found: `apt-get install -y linux-perf`")
    if args.callgrind:
        missing = [m for m in missing if not m.startswith("kamailio")]
    if missing:
        for m in missing:
            print("bench_proxy: " + m, file=sys.stderr)
        print("bench_proxy: not run", file=sys.stderr)
        return 2
    args.sipd = os.path.abspath(args.sipd)
    PROCS.nice = args.nice

    args.workdir = tempfile.mkdtemp(prefix="bench_proxy-")
    json_path = args.json or os.path.join(args.workdir, "results.json")
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    atexit.register(PROCS.stop_all)

    bench = Bench(args)
    if bench.load_cpus is not None:
        try:
            os.sched_setaffinity(0, {int(c) for c in
                                     _cpu_list(bench.load_cpus)})
        except (OSError, ValueError):
            pass
    if args.callgrind:
        return callgrind(bench, args)
    if args.perf:
        return perf_mode(bench, args)

    p = bench.prof
    print("bench_proxy: sipd %s vs %s" % (args.sipd,
                                          bench.results["environment"]
                                          ["kamailio"]))
    print("pinning: " + bench.pin_text())
    print("load average at start: %s (shared machine: figures are noisy)" %
          " ".join(bench.results["environment"]["loadavg_start"] or []))
    print("logs and per-run files: %s" % args.workdir, flush=True)
    phases = args.only or ["fixed", "dns", "tcp", "lg", "xcheck", "instr",
                           "search", "hold"]
    if "dns" in phases and not (shutil.which("dnsmasq") or
                                os.access("/usr/sbin/dnsmasq", os.X_OK)):
        print("dns: not run (no dnsmasq: `apt-get install -y "
              "dnsmasq-base`)", flush=True)
        phases = [ph for ph in phases if ph != "dns"]
    res = bench.results
    partial = []
    args.floor = None
    args.floor_uring = False
    if "floor" in phases or "lg" in phases:
        # with Debian's liburing-dev the floor has its io_uring mode too
        args.floor, why = build_floor(args.workdir, extra=(
            "-DFLOOR_URING", "-luring"))
        args.floor_uring = args.floor is not None
        if args.floor is None:
            args.floor, why = build_floor(args.workdir)
        if args.floor is not None and not args.floor_uring:
            print("floor: without its io_uring mode (no liburing: "
                  "`apt-get install -y liburing-dev`)", flush=True)
        if args.floor is None:
            print("floor: not run (%s)" % why, flush=True)
            res["floor_skipped"] = why
    if args.loadgen is None and ({"lg", "xcheck", "instr", "search"} &
                                 set(phases)):
        args.loadgen, why = build_floor(args.workdir, LOADGEN_C, "loadgen")
        if args.loadgen is None:
            print("loadgen: not built (%s); the search uses sipp" % why,
                  flush=True)
            partial.append("loadgen not built: %s" % why)
    print("charged: %s" % (
        "every fixed-rate run to quiescence (sipd kept up %g s after its "
        "last call, Kamailio %g s: all deferred work counted)" % (
            LINGER_S["sipd"], LINGER_S["kamailio"])
        if args.charge == "quiescence" else
        "steady state: the CPU of a %g s window of calls after a %g s "
        "warm-up, both longer than 64*T1 (sipd's 32 s), calls going on "
        "throughout" % (STEADY_WINDOW_S, STEADY_WARM_S)
        if args.charge == "steady" else
        "the calls' window only (--charge window: deferred work not "
        "counted)"), flush=True)
    try:
        if "fixed" in phases:
            print("\n[1] UDP, 1 worker, %d calls/s, %d calls per run, %d runs "
                  "per server, alternating" % (p["rate"], p["rate"] *
                                               p["udp_s"], p["reps"]),
                  flush=True)
            res["fixed_udp"] = bench.fixed("udp", p["udp_s"])
        if "dns" in phases:
            print("\n[1d] DNS-routed: sipd, UDP, 1 worker, %d calls/s, the "
                  "domain resolved by SRV through dnsmasq (cache warm after "
                  "the first call) vs a Router record naming the UAS's "
                  "address; %d calls per run, %d runs each, alternating" % (
                      p["rate"], p["rate"] * p["udp_s"], p["reps"]),
                  flush=True)
            res["dns_udp"] = bench.fixed("udp", p["udp_s"],
                                         ("sipd", "sipd-dns"))
        if "floor" in phases and args.floor:
            print("\n[1b] the floor: a UDP relay that does no SIP work "
                  "(bench_floor.c), blocking and event-loop I/O, the same "
                  "calls", flush=True)
            res["floor_udp"] = bench.fixed("udp", p["udp_s"],
                                           ("floor", "floor-epoll") + (
                                               ("floor-uring",)
                                               if args.floor_uring else ()))
        if "tcp" in phases:
            print("\n[2] TCP (sipp -t t1), 1 worker, %d calls/s, %d calls "
                  "per run, %d runs per server" % (
                      p["rate"], p["rate"] * p["tcp_s"], p["reps"]),
                  flush=True)
            res["fixed_tcp"] = bench.fixed("tcp", p["tcp_s"])
        if "lg" in phases and args.loadgen:
            res["lg"] = {}
            for rate in p["rates"]:
                for transport in ("udp", "tcp"):
                    names = ("sipd", "kamailio")
                    if transport == "udp" and args.floor:
                        names += ("floor",)
                    print("\n[L] loadgen, %s, %d calls/s, %d calls per run, "
                          "%d run(s) each of %s, alternating" % (
                              transport.upper(), rate,
                              rate * p["lg_s"][rate], p["lg_reps"],
                              ", ".join(names)), flush=True)
                    res["lg"]["%s-%d" % (transport, rate)] = \
                        bench.fixed_lg(transport, rate, names)
        if "xcheck" in phases and args.loadgen:
            res["lg_sipp"] = {}
            for transport in ("udp", "tcp"):
                print("\n[X] loadgen paced as sipp (-S: the calls due by a "
                      "1 ms clock opened per loop turn), %s, %d calls/s, "
                      "%d calls per run, %d run(s) each, alternating: the "
                      "cross-check against phases 1 and 2" % (
                          transport.upper(), p["rate"],
                          int(p["rate"] * p["udp_s"]), p["reps"]),
                      flush=True)
                res["lg_sipp"]["%s-%d" % (transport, p["rate"])] = \
                    bench.fixed_lg(transport, p["rate"],
                                   ("sipd", "kamailio"), sched="sipp",
                                   seconds=p["udp_s"], reps=p["reps"])
        if "instr" in phases and args.loadgen:
            print("\n[I] user-space instructions per call: callgrind, UDP, "
                  "%d and %d calls at %d/s, each server kept up until "
                  "quiescent" % (p["cg_calls"] + (p["cg_rate"],)),
                  flush=True)
            res["instr"] = [bench.instructions("sipd"),
                            bench.instructions("kamailio")]
        if "search" in phases:
            print("\n[3] highest rate with < 0.1 %% failed calls (UDP, %s; "
                  "%g s probes from %d/s, doubling then %d bisections; "
                  "both servers' receive buffer %d B asked)" %
                  ("loadgen" if args.loadgen else "sipp", p["probe_s"],
                   p["search_start"], p["bisect"], SERVER_RCVBUF),
                  flush=True)
            res["search"] = []
            for w in p["kam_children"]:
                res["search"].append(bench.search("kamailio", w))
            for w in args.workers or (1, 2):
                res["search"].append(bench.search("sipd", w))
        if "hold" in phases:
            print("\n[4] memory: %d calls held ringing (UDP, 1 worker)" %
                  p["hold_n"], flush=True)
            res["hold"] = [bench.hold("sipd"), bench.hold("kamailio")]
    except Abort as e:
        partial.append(str(e))
        res["errors"].append(str(e))
        print("\nbench_proxy: ABORTED: %s" % e, flush=True)
    except KeyboardInterrupt:
        partial.append("interrupted")
        res["errors"].append("interrupted")
        print("\nbench_proxy: interrupted", flush=True)
    finally:
        PROCS.stop_all()

    # ------------------------------------------------------------ summary
    res["environment"]["loadavg_end"] = bench.loadavg()
    res["elapsed_s"] = round(time.monotonic() - bench.t0, 1)
    print("\n==== results (%s run, %.0f s; load average %s -> %s) ====" % (
        res["profile"], res["elapsed_s"],
        " ".join(res["environment"]["loadavg_start"] or []),
        " ".join(res["environment"]["loadavg_end"] or [])))
    print("pinning: " + bench.pin_text())
    summ = {}
    if res.get("fixed_udp"):
        summ["udp"] = fixed_table(
            "UDP, 1 worker, %d calls/s: median (min-max) of %d runs" %
            (p["rate"], p["reps"]), res["fixed_udp"])
    if res.get("dns_udp"):
        summ["dns"] = fixed_table(
            "DNS-routed vs IP literal, UDP, 1 worker, %d calls/s: median "
            "(min-max) of %d runs" % (p["rate"], p["reps"]), res["dns_udp"])
        summ["dns_hit_share_pct"] = dns_report(summ["dns"])
    if res.get("floor_udp"):
        summ["floor"] = fixed_table(
            "The floor, UDP, %d calls/s: median (min-max) of %d runs" %
            (p["rate"], p["reps"]), res["floor_udp"])
        floor_report(summ.get("udp", {}), summ["floor"])
    if res.get("fixed_tcp"):
        summ["tcp"] = fixed_table(
            "TCP, 1 worker, %d calls/s: median (min-max) of %d runs" %
            (p["rate"], p["reps"]), res["fixed_tcp"])
        t = summ["tcp"]
        if t.get("sipd") and t.get("kamailio") and \
                t["sipd"]["calls_per_cpu_s"][0] and \
                t["kamailio"]["calls_per_cpu_s"][0]:
            print("  TCP calls/CPU-s ratio sipd/kamailio: %.2f" % (
                t["sipd"]["calls_per_cpu_s"][0] /
                t["kamailio"]["calls_per_cpu_s"][0]))
    if res.get("lg"):
        summ["lg"] = lg_report(res["lg"], p)
    if res.get("lg_sipp"):
        summ["lg_sipp"] = xcheck_table(res["lg_sipp"])
    if summ.get("lg") or summ.get("lg_sipp"):
        summ["cross_check_agrees"] = cross_check(summ, p["rate"])
    if res.get("instr"):
        print("\nUser-space instructions per call (callgrind, UDP, 1 worker,"
              " deferred work included)")
        for i in res["instr"]:
            print("  %-12s %s" % (i["server"], i.get("error") or
                                  "%d" % i["instructions_per_call"]))
    if res.get("search"):
        print("\nHighest sustained rate, UDP (< 0.1 %% failed, %g s probes; "
              "servers pinned as above; CPU share of the probe at that rate "
              "and of the first failing one, and why it failed)" %
              p["probe_s"])
        best = {}
        for s in res["search"]:
            b = best.get(s["server"])
            if b is None or (s["max_rate"] or 0) > (b["max_rate"] or 0):
                best[s["server"]] = s
        for s in res["search"]:
            if s["max_rate"] is None:
                txt = "below %d calls/s" % s["first_failing"]
            elif s["first_failing"] is None:
                txt = ">= %d calls/s" % s["max_rate"]
            else:
                txt = "%d calls/s (fails at %d)" % (s["max_rate"],
                                                    s["first_failing"])
            if s["note"]:
                txt += " [%s: a floor, not the server's limit]" % s["note"]
            if s.get("util_at_max") is not None:
                txt += "; CPU %.0f%% there" % (100 * s["util_at_max"])
            if s.get("why"):
                txt += "; failed: %s" % s["why"]
            if best.get(s["server"]) is s and s["server"] == "kamailio":
                txt += " [best of children %s]" % "/".join(
                    str(w) for w in p["kam_children"])
            print("  %-12s %s" % ("%s %dw" % (s["server"], s["workers"]),
                                  txt))
    if res.get("hold"):
        print("\nMemory per ringing call (one INVITE server + client "
              "transaction), %d calls held" % p["hold_n"])
        for h in res["hold"]:
            if "error" in h:
                print("  %-12s %s" % (h["server"], h["error"]))
                continue
            print("  %-12s RSS sum +%d B/call (%.1f -> %.1f MB), PSS +%d "
                  "B/call (%.1f -> %.1f MB); %s ringing; %d/%d completed" % (
                      h["server"], h["rss_bytes_per_call"],
                      h["rss_base_kb"] / 1024, h["rss_held_kb"] / 1024,
                      h["pss_bytes_per_call"], h["pss_base_kb"] / 1024,
                      h["pss_held_kb"] / 1024, h["ringing"], h["completed"],
                      h["calls"]))
            if "heap_bytes_per_call" in h:
                print("  %-12s heap +%.0f B/call (the allocator's, exact: "
                      "bench_ringmem.py)" % (h["server"],
                                             h["heap_bytes_per_call"]))
    print("\nRSS and VmHWM are summed over the process tree; Kamailio's "
          "shared memory is counted once per process that touched it, PSS "
          "counts it once.")

    # ---------------------------------------------------------- verdict
    errors = [r for r in res["runs"] if r.get("error")]
    for r in errors:
        partial.append("run #%d (%s %s): %s" % (r["seq"], r["label"],
                                                 r["kind"], r["error"]))
    for phase in ("fixed_udp", "fixed_tcp", "dns_udp"):
        for name, recs in (res.get(phase) or {}).items():
            bad = [r for r in recs if r["failed"]]
            if bad:
                partial.append("%s %s: %d run(s) with failed calls (%s)" % (
                    phase, name, len(bad), ", ".join(
                        "#%d: %d failed %s" % (r["seq"], r["failed"],
                                               r.get("failed_detail"))
                        for r in bad)))
    if args.only:
        partial.append("--only: not a full run")
    notes = []
    for key, table in (res.get("lg") or {}).items():
        for name, recs in table.items():
            bad = [r for r in recs if r["failed"]]
            # 8000 calls/s may be past a server's capacity on one core:
            # its failures are a finding, printed, not a broken run
            into = notes if key.endswith("-8000") else partial
            if bad:
                into.append("loadgen %s %s: %d run(s) with failed calls "
                            "(%s)" % (key, name, len(bad), ", ".join(
                                "#%d: %d failed %s" % (
                                    r["seq"], r["failed"],
                                    r.get("failed_detail"))
                                for r in bad)))
    res["partial"] = partial
    res["notes"] = notes
    res["summary"] = summ
    with open(json_path, "w") as f:
        json.dump(res, f, indent=1, default=str)
    print("\nevery probe: %s" % json_path)
    for m in notes:
        print("NOTE: " + m)
    lg = summ.get("lg", {})

    def cps(key, name):
        v = ((lg.get(key) or {}).get(name) or {}).get("calls_per_cpu_s")
        return v[0] if v and v[0] else None
    lines = []
    if cps("udp-500", "sipd") and cps("udp-500", "kamailio"):
        lines.append("proxy calls per CPU-second ratio vs kamailio: %.2f" % (
            cps("udp-500", "sipd") / cps("udp-500", "kamailio")))
    if cps("udp-3000", "sipd") and cps("udp-3000", "kamailio"):
        lines.append("proxy calls per CPU-second ratio vs kamailio at "
                     "3000/s: %.2f" % (cps("udp-3000", "sipd") /
                                       cps("udp-3000", "kamailio")))
    if cps("udp-3000", "sipd") and cps("udp-3000", "floor"):
        lines.append("proxy share of the floor at 3000/s: %.2f" % (
            cps("udp-3000", "sipd") / cps("udp-3000", "floor")))
    if partial or len(lines) < 3:
        for m in partial:
            print("PARTIAL: " + m)
        print("bench_proxy: failed or partial run: no ratio")
        return 1
    print("\n".join(lines))
    return 0


def _cpu_list(spec):
    out = []
    for part in spec.split(","):
        if "-" in part:
            a, b = part.split("-")
            out.extend(range(int(a), int(b) + 1))
        else:
            out.append(int(part))
    return out


# Where a sample of the server's CPU was: user space, or the kernel
# under one of these system calls (the first __x64_sys_* frame of its
# stack), or a page fault.
PERF_SYSCALLS = {
    "sendto": "send", "sendmsg": "send", "sendmmsg": "send",
    "write": "send", "writev": "send",
    "recvfrom": "receive", "recvmsg": "receive", "recvmmsg": "receive",
    "read": "receive", "readv": "receive", "ioctl": "receive",
    "epoll_wait": "epoll", "epoll_ctl": "epoll",
}
PERF_PARTS = ("user", "send", "receive", "epoll", "page fault", "other")


def perf_split(path):
    """Samples of a perf.data file by PERF_PARTS."""
    r = subprocess.run(["perf", "script", "-i", path, "-F", "ip,sym"],
                       capture_output=True, text=True, timeout=600)
    counts = dict.fromkeys(PERF_PARTS, 0)

    def account(stack):
        if not stack:
            return
        part = "user"
        if stack[0][0].startswith("ffffffff"):
            part = "other"
            for _, sym in stack:
                if sym.startswith("__x64_sys_"):
                    part = PERF_SYSCALLS.get(sym[len("__x64_sys_"):],
                                             "other")
                    break
                if sym in ("exc_page_fault", "asm_exc_page_fault"):
                    part = "page fault"
                    break
        counts[part] += 1

    stack = []
    for line in r.stdout.splitlines():
        f = line.split(None, 1)
        if not f:
            account(stack)
            stack = []
        else:
            stack.append((f[0], f[1] if len(f) > 1 else ""))
    account(stack)
    return counts


def perf_mode(bench, args):
    """Alternating fixed-rate UDP runs under perf; where the CPU goes."""
    p = bench.prof
    print("perf: %d runs per server, UDP, 1 worker, %d calls/s, %d calls "
          "per run; files in %s" % (p["reps"], p["rate"],
                                    p["rate"] * p["udp_s"], args.workdir))
    print("pinning: " + bench.pin_text(), flush=True)
    total = {"sipd": dict.fromkeys(PERF_PARTS, 0),
             "kamailio": dict.fromkeys(PERF_PARTS, 0)}
    calls = dict.fromkeys(total, 0)
    try:
        for i in range(p["reps"]):
            order = ("sipd", "kamailio") if i % 2 == 0 else ("kamailio",
                                                             "sipd")
            for name in order:
                rec = bench.run(bench.servers[name], "udp", 1, p["rate"],
                                p["rate"] * p["udp_s"], "perf")
                bench.line(rec)
                if rec.get("failed") or "perf" not in rec:
                    print("perf: a run failed; no split")
                    return 1
                for k, v in perf_split(rec["perf"]).items():
                    total[name][k] += v
                calls[name] += rec["successful"]
    finally:
        PROCS.stop_all()
    print("\nserver CPU samples (cpu-clock) per 1000 calls, by where "
          "they were spent:")
    print("  %-9s" % "" + "".join("%12s" % k for k in PERF_PARTS) +
          "%12s" % "total")
    for name in ("sipd", "kamailio"):
        t = total[name]
        n = sum(t.values())
        scale = 1000.0 / max(calls[name], 1)
        print("  %-9s" % name + "".join(
            "%7.1f %3d%%" % (t[k] * scale, round(100.0 * t[k] / max(n, 1)))
            for k in PERF_PARTS) + "%12.1f" % (n * scale))
    bench.results["perf"] = {"samples": total, "calls": calls}
    return 0


def callgrind(bench, args):
    """sipd under callgrind at a low rate; prints the top functions."""
    out = os.path.join(args.workdir, "callgrind.out")
    args.valgrind = ["valgrind", "--tool=callgrind",
                     "--callgrind-out-file=" + out]
    rate, calls = 50, 1500
    print("callgrind: sipd 1 worker, UDP, %d calls/s, %d calls; files in %s"
          % (rate, calls, args.workdir), flush=True)
    bench.prof["budget_s"] = 600
    try:
        rec = bench.run(bench.servers["sipd"], "udp", 1, rate, calls,
                        "callgrind")
    finally:
        PROCS.stop_all()
    bench.line(rec)
    r = subprocess.run(["callgrind_annotate", "--inclusive=no", out],
                       capture_output=True, text=True, timeout=120)
    lines = r.stdout.splitlines()
    print("\n".join(lines[:60]))
    r = subprocess.run(["callgrind_annotate", "--inclusive=yes", out],
                       capture_output=True, text=True, timeout=120)
    with open(os.path.join(args.workdir, "inclusive.txt"), "w") as f:
        f.write(r.stdout)
    print("\ninclusive listing: %s" % os.path.join(args.workdir,
                                                   "inclusive.txt"))
    return 0 if rec["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

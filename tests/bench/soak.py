#!/usr/bin/python3
"""Soak: sipd under a steady mixed load for a long time (not run by ctest).

One sipd (UDP and TCP listeners on one port, a local domain with USERS
accounts) carries for --minutes (default 30):

- INVITE calls at --rate calls a second, split between UDP and TCP:
  two loadgen.c runs (caller and callee in one process, built here with
  cc), each call INVITE, 100, 180, 200, ACK, BYE, 200 through sipd with
  Record-Route, held --hold ms;
- REGISTER refreshes: USERS accounts, half over UDP and half over TCP,
  each registered with Expires --expires and refreshed at half of it,
  answering the Digest challenge each time (RFC 3261 10.2.8, 22);
- OPTIONS to sipd itself (Max-Forwards 0) once a second, over UDP and
  over TCP.

Every --sample seconds it records sipd's resident memory (VmRSS) and
`sipctl -j show stats`.  At the end it prints one report:

- failed calls (loadgen's counts: a final status other than 200, Timer B
  or F, or the deadline), failed or unanswered REGISTERs and OPTIONS;
- RSS after warm-up (--warmup minutes, default a sixth of the run, at
  most 5) and at the end of the load, and the growth between them;
- the tables of `show stats` (server and client transactions, DNS cache
  entries) before the load, at its end, and --settle seconds after the
  load stopped (long enough for Timers J, K, and L: 64*T1), with
  `show registrations` counted likewise.

The goals of the operations brief: 0 failed calls, RSS growth under 5%
after warm-up, no growth of the tables once the load has stopped.
Exit status 0 when those hold, 1 when not, 2 on a set-up error.

    tests/bench/soak.py --sipd build/sipd/sipd --sipctl build/sipctl/sipctl \\
        --minutes 30 --rate 200
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

import sipua  # noqa: E402
from sipdtest import Fail, new_tag  # noqa: E402

DOMAIN = "soak.invalid"  # what the calls go to: routed to the callees
REALM = "example.com"    # the accounts' domain
PASSWORD = "soak-pw"


def free_port():
    return sipua.free_port()


def rss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


class Soak:
    def __init__(self, args):
        self.args = args
        self.dir = tempfile.mkdtemp(prefix="sipd-soak-")
        self.port = free_port()
        self.uas_udp = free_port()
        self.uas_tcp = free_port()
        self.sock = os.path.join(self.dir, "sipd.sock")
        self.proc = None
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.reg_ok = self.reg_failed = 0
        self.opt_ok = self.opt_failed = 0
        self.samples = []  # (t, rss_kb, stats)
        self.errors = []

    # ------------------------------------------------------------ set-up

    def build_loadgen(self):
        cc = shutil.which("cc") or shutil.which("gcc") or shutil.which(
            "clang")
        if cc is None:
            raise Fail("no C compiler (cc) for loadgen.c")
        out = os.path.join(self.dir, "loadgen")
        r = subprocess.run([cc, "-O2", "-o", out,
                            os.path.join(HERE, "loadgen.c")],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True)
        if r.returncode != 0:
            raise Fail("cc loadgen.c failed: %s" % r.stdout[:300])
        return out

    def start_sipd(self):
        a = self.args
        conf = os.path.join(self.dir, "sipd.conf")
        lines = [
            "listener add udp 127.0.0.1:%d" % self.port,
            "listener add tcp 127.0.0.1:%d" % self.port,
            "client-ip add 127.0.0.0/8",
            "set reg-store %s" % os.path.join(self.dir, "reg.db"),
            "set processors %d" % a.workers,
            "set force-rr on",
            "route add udp.%s 127.0.0.1:%d" % (DOMAIN, self.uas_udp),
            "route add tcp.%s 127.0.0.1:%d transport tcp" % (
                DOMAIN, self.uas_tcp),
            "domain add %s" % REALM,
            "set reg-min-expires %d" % min(60, a.expires),
            "log level all %s" % a.log_level,
        ]
        for i in range(a.users):
            lines.append("account add u%d@%s password %s" % (
                i, REALM, PASSWORD))
        with open(conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        err = open(os.path.join(self.dir, "stderr"), "w")
        self.proc = subprocess.Popen(
            [a.sipd, "-f", "-c", conf, "-s", self.sock],
            stdin=subprocess.DEVNULL, stdout=err, stderr=err)
        err.close()
        for _ in range(100):
            if self.proc.poll() is not None:
                raise Fail("sipd exited: %s" % self.log_tail())
            if self.ctl("show", "stats") is not None:
                return
            time.sleep(0.1)
        raise Fail("sipd did not answer on its control socket")

    def log_tail(self, n=20):
        try:
            with open(os.path.join(self.dir, "stderr")) as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def ctl(self, *words):
        """sipctl -j WORDS: the reply's data, or None."""
        try:
            r = subprocess.run([self.args.sipctl, "-s", self.sock, "-j"] +
                               list(words), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True,
                               timeout=20)
        except subprocess.TimeoutExpired:
            return None
        if r.returncode != 0:
            return None
        out = []
        for line in r.stdout.splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                return None
        if len(out) == 1:
            return out[0].get("data")
        return [o.get("data") for o in out]

    def registrations(self):
        d = self.ctl("show", "registrations")
        if d is None:
            return None
        # one reply: a list of bindings; chunks: a list of such lists
        if isinstance(d, list) and d and all(isinstance(x, list)
                                             for x in d):
            return sum(len(x) for x in d)
        return len(d) if isinstance(d, list) else 0

    def tables(self):
        s = self.ctl("show", "stats") or {}
        return {"server-transactions": s.get("server-transactions"),
                "client-transactions": s.get("client-transactions"),
                "dns-cache-entries": s.get("dns-cache-entries"),
                "registrations": self.registrations()}

    # ------------------------------------------------------------ load

    def loadgen(self, binary, transport, rate, seconds):
        uac = free_port()
        uas = self.uas_udp if transport == "udp" else self.uas_tcp
        calls = int(rate * seconds)
        argv = [binary, "-t", transport, "-r", str(max(1, int(rate))),
                "-D", "%s.%s" % (transport, DOMAIN),
                "-n", str(calls), "-d", str(self.args.hold),
                "-T", str(int(seconds + 40)), "-v",
                "-s", str(self.port), "-p", str(uac), "-u", str(uas),
                "-i", "127.0.0.1"]
        return subprocess.Popen(argv, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

    def registrar(self, transport, users, seconds):
        """Register users and refresh each at half of --expires, until
        the load ends."""
        a = self.args
        if transport == "udp":
            ua = sipua.UA()
        else:
            ua = sipua.StreamUA(connect=("127.0.0.1", self.port))
        due = {u: time.monotonic() + i * (a.expires / 2) / len(users)
               for i, u in enumerate(users)}
        end = time.monotonic() + seconds
        try:
            while not self.stop.is_set() and time.monotonic() < end:
                now = time.monotonic()
                for u, t in due.items():
                    if t > now:
                        continue
                    try:
                        r = sipua.register(ua, self.port, u, REALM,
                                           PASSWORD, expires=a.expires)
                        ok = r.status == 200
                        if not ok:
                            self.note("REGISTER %s over %s: %d %s" % (
                                u, transport, r.status, r.first("Warning")
                                or ""))
                    except (Fail, OSError) as e:
                        ok = False
                        self.note("REGISTER %s over %s: %s" %
                                  (u, transport, e))
                    with self.lock:
                        if ok:
                            self.reg_ok += 1
                        else:
                            self.reg_failed += 1
                    due[u] = now + a.expires / 2
                ua.seen = []
                time.sleep(0.05)
        finally:
            ua.close()

    def options(self, seconds):
        """An OPTIONS for sipd over UDP and one over TCP every second."""
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind(("127.0.0.1", 0))
        tcp = None
        end = time.monotonic() + seconds
        try:
            while not self.stop.is_set() and time.monotonic() < end:
                t0 = time.monotonic()
                for transport in ("udp", "tcp"):
                    ok = False
                    try:
                        if transport == "udp":
                            ok = self.options_udp(udp)
                        else:
                            if tcp is None:
                                tcp = sipua.RawConn(self.port)
                            ok = self.options_tcp(tcp)
                    except OSError as e:
                        self.note("OPTIONS over %s: %s" % (transport, e))
                        if tcp is not None:
                            tcp.close()
                        tcp = None
                    with self.lock:
                        if ok:
                            self.opt_ok += 1
                        else:
                            self.opt_failed += 1
                time.sleep(max(0.0, 1.0 - (time.monotonic() - t0)))
        finally:
            udp.close()
            if tcp is not None:
                tcp.close()

    def options_udp(self, sock):
        cid = "%s@soak" % new_tag()
        port = sock.getsockname()[1]
        data = ("OPTIONS sip:127.0.0.1:%d SIP/2.0\r\n"
                "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK%s;rport\r\n"
                "Max-Forwards: 0\r\nFrom: <sip:soak@127.0.0.1>;tag=%s\r\n"
                "To: <sip:127.0.0.1>\r\nCall-ID: %s\r\n"
                "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n" % (
                    self.port, port, new_tag(), new_tag(), cid)).encode()
        sock.sendto(data, ("127.0.0.1", self.port))
        sock.settimeout(2.0)
        deadline = time.monotonic() + 2.0
        for _ in range(100):
            try:
                got, _ = sock.recvfrom(65536)
            except socket.timeout:
                break
            if cid.encode() in got:
                return got.startswith(b"SIP/2.0 200 ")
            if time.monotonic() > deadline:
                break
        self.note("OPTIONS over UDP unanswered")
        return False

    def options_tcp(self, conn):
        data = conn.options(self.port).replace(b"Max-Forwards: 70",
                                               b"Max-Forwards: 0")
        if not conn.send(data):
            raise OSError("connection closed")
        got = conn.read(1, 2.0)
        if not got:
            self.note("OPTIONS over TCP unanswered")
            return False
        return got[0].status == 200

    def note(self, text):
        with self.lock:
            if len(self.errors) < 20:
                self.errors.append(text)

    # ------------------------------------------------------------ run

    def run(self):
        a = self.args
        seconds = a.minutes * 60
        warmup = a.warmup * 60 if a.warmup is not None else min(
            300.0, seconds / 6)
        binary = self.build_loadgen()
        self.start_sipd()
        pid = self.proc.pid
        before = self.tables()
        print("soak: sipd pid %d on 127.0.0.1:%d, %d worker(s); %g calls/s "
              "for %g min (warm-up %g min), %d users (Expires %d), "
              "OPTIONS 2/s" % (pid, self.port, a.workers, a.rate,
                               a.minutes, warmup / 60, a.users, a.expires),
              flush=True)

        t0 = time.monotonic()
        gens = [("udp", self.loadgen(binary, "udp", a.rate / 2, seconds)),
                ("tcp", self.loadgen(binary, "tcp", a.rate / 2, seconds))]
        users = ["u%d" % i for i in range(a.users)]
        threads = [
            threading.Thread(target=self.registrar,
                             args=("udp", users[0::2], seconds)),
            threading.Thread(target=self.registrar,
                             args=("tcp", users[1::2], seconds)),
            threading.Thread(target=self.options, args=(seconds,)),
        ]
        for t in threads:
            t.start()
        rss_warm = None
        next_sample = t0
        while time.monotonic() - t0 < seconds:
            if self.proc.poll() is not None:
                self.stop.set()
                raise Fail("sipd died (status %s): %s" % (
                    self.proc.returncode, self.log_tail()))
            now = time.monotonic()
            if now >= next_sample:
                rss = rss_kb(pid)
                st = self.ctl("show", "stats") or {}
                self.samples.append((now - t0, rss, st))
                if rss_warm is None and now - t0 >= warmup:
                    rss_warm = rss
                print("soak: %5.0f s rss %s kB, server txns %s, client "
                      "txns %s, calls in so far %s" % (
                          now - t0, rss, st.get("server-transactions"),
                          st.get("client-transactions"),
                          st.get("requests-in", {}).get("INVITE")),
                      flush=True)
                next_sample = now + a.sample
            time.sleep(min(1.0, max(0.05, next_sample - time.monotonic())))
        rss_end = rss_kb(pid)
        at_end = self.tables()
        self.stop.set()
        for t in threads:
            t.join(30)
        results = {}
        for name, p in gens:
            try:
                out, err = p.communicate(timeout=120)
            except subprocess.TimeoutExpired:
                p.kill()
                out, err = p.communicate()
            results[name] = (p.returncode, out.strip(), err.strip())
        time.sleep(a.settle)
        after = self.tables()
        rss_after = rss_kb(pid)
        return self.report(results, before, at_end, after, rss_warm,
                           rss_end, rss_after, warmup)

    def report(self, results, before, at_end, after, rss_warm, rss_end,
               rss_after, warmup):
        a = self.args
        ok = True
        failed_calls = 0
        print("\n=== soak report (%g min at %g calls/s, %d worker(s))" %
              (a.minutes, a.rate, a.workers))
        for name, (rc, out, err) in results.items():
            kv = dict(w.split("=", 1) for w in out.split() if "=" in w)
            f = int(kv.get("failed", "1"))
            failed_calls += f
            print("calls over %s: %s" % (name.upper(), out or "(no output)"))
            if err:
                print("  loadgen stderr: %s" % err.splitlines()[-1])
        print("failed calls: %d" % failed_calls)
        ok = ok and failed_calls == 0
        print("REGISTER: %d ok, %d failed; OPTIONS: %d ok, %d failed" % (
            self.reg_ok, self.reg_failed, self.opt_ok, self.opt_failed))
        ok = ok and self.reg_failed == 0 and self.opt_failed == 0
        if rss_warm and rss_end:
            growth = 100.0 * (rss_end - rss_warm) / rss_warm
            print("RSS: %d kB after %g min of warm-up, %d kB at the end of "
                  "the load (%+.2f%%), %s kB after it settled" % (
                      rss_warm, warmup / 60, rss_end, growth, rss_after))
            ok = ok and growth < 5.0
        else:
            print("RSS: no sample after warm-up")
            ok = False
        print("show stats tables (before / at the end / %d s after):" %
              a.settle)
        for k in before:
            print("  %-20s %8s %8s %8s" % (k, before[k], at_end[k],
                                           after[k]))
        grew = [k for k in ("server-transactions", "client-transactions")
                if (after[k] or 0) > (before[k] or 0)]
        if after["registrations"] is not None and \
                after["registrations"] > a.users:
            grew.append("registrations")
        if grew:
            print("tables that did not shrink back: %s" % ", ".join(grew))
            ok = False
        for e in self.errors:
            print("  %s" % e)
        print("soak: %s" % ("PASS" if ok else "FAIL"))
        return 0 if ok else 1

    def cleanup(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if not self.args.keep:
            shutil.rmtree(self.dir, ignore_errors=True)
        else:
            print("soak: files kept in %s" % self.dir)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sipd", default="build/sipd/sipd")
    p.add_argument("--sipctl", default="build/sipctl/sipctl")
    p.add_argument("--minutes", type=float, default=30.0)
    p.add_argument("--rate", type=float, default=200.0,
                   help="calls a second, half over UDP, half over TCP "
                   "(the brief: 70%% of the highest sustainable rate, "
                   "bench_proxy.py measures it)")
    p.add_argument("--hold", type=int, default=1000,
                   help="ms from 180 to 200 at the callee")
    p.add_argument("--users", type=int, default=100)
    p.add_argument("--expires", type=int, default=60)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--warmup", type=float, default=None,
                   help="minutes (default a sixth of the run, at most 5)")
    p.add_argument("--sample", type=float, default=10.0,
                   help="seconds between samples")
    p.add_argument("--settle", type=float, default=40.0,
                   help="seconds after the load before the last tables")
    p.add_argument("--log-level", default="failure")
    p.add_argument("--keep", action="store_true",
                   help="keep sipd's files (configuration, stderr)")
    args = p.parse_args()
    soak = Soak(args)
    try:
        rc = soak.run()
    except Fail as e:
        print("soak: set-up failed: %s" % e)
        rc = 2
    except KeyboardInterrupt:
        rc = 2
    finally:
        soak.stop.set()
        soak.cleanup()
    sys.exit(rc)


if __name__ == "__main__":
    main()

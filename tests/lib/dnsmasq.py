"""A real DNS server for the integration tests: Debian's dnsmasq on
127.0.0.1 and a free port, authoritative for one zone (example.test by
default) with the records given on its command line (--naptr-record,
--srv-host, --host-record), every query logged to a file so a test can
count what reached it.  Names of the zone without records are NXDOMAIN.
A missing dnsmasq raises Skip (a failure under CI=true).  Every wait is
bounded."""

import os
import shutil
import signal
import subprocess
import tempfile
import time

import sipdtest
from sipdtest import Fail, Skip

START_TIMEOUT = 5.0


class Dnsmasq:
    """dnsmasq serving records (a list of its options) for zone, each
    answer with ttl seconds.  Use as a context manager; addr is the
    "127.0.0.1:PORT" that `dns server` takes."""

    def __init__(self, records, zone="example.test", ttl=60):
        self.bin = shutil.which("dnsmasq") or next(
            (p for p in ("/usr/sbin/dnsmasq", "/sbin/dnsmasq")
             if os.access(p, os.X_OK)), None)
        if self.bin is None:
            raise Skip("no dnsmasq (Debian's dnsmasq-base)")
        self.records = list(records)
        self.zone = zone
        self.ttl = ttl
        self.dir = tempfile.TemporaryDirectory(prefix="sipd-dns-")
        self.log_path = os.path.join(self.dir.name, "queries.log")
        self.proc = None
        self.port = None

    @property
    def addr(self):
        return "127.0.0.1:%d" % self.port

    def start(self):
        for _ in range(3):
            self.port = sipdtest.free_udp_port()
            open(self.log_path, "w").close()
            args = [self.bin, "--keep-in-foreground", "--no-resolv",
                    "--no-hosts", "--conf-file=/dev/null",
                    "--bind-interfaces", "--listen-address=127.0.0.1",
                    "--port=%d" % self.port,
                    "--pid-file=%s" % os.path.join(self.dir.name, "pid"),
                    "--log-queries", "--log-facility=%s" % self.log_path,
                    "--auth-server=ns.%s,127.0.0.1" % self.zone,
                    "--auth-zone=%s" % self.zone,
                    "--auth-ttl=%d" % self.ttl,
                    "--local-ttl=%d" % self.ttl]
            if os.getuid() == 0:
                args.append("--user=root")
            self.proc = subprocess.Popen(
                args + self.records, stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            deadline = time.monotonic() + START_TIMEOUT
            for _ in range(int(START_TIMEOUT / 0.05) + 1):
                if self.proc.poll() is not None or \
                        time.monotonic() > deadline:
                    break
                if "started, version" in self.log():
                    return self
                time.sleep(0.05)
            err = self.stop()
            if "in use" not in err:
                raise Fail("dnsmasq did not start: %s" % err)
        raise Fail("dnsmasq found no free port")

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def queries(self, name=None, qtype=None):
        """Queries that reached dnsmasq ("auth[TYPE] NAME from ..."), for
        name and type when given."""
        n = 0
        for line in self.log().splitlines():
            if "auth[" not in line and "query[" not in line:
                continue
            if qtype is not None and "[%s]" % qtype not in line:
                continue
            if name is not None and " %s from" % name not in line:
                continue
            n += 1
        return n

    def stop(self):
        err = ""
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(timeout=5)
            err = self.proc.stderr.read().decode(errors="replace")
            self.proc.stderr.close()
            self.proc = None
        return err

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        self.dir.cleanup()
        return False

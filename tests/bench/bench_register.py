#!/usr/bin/python3
"""bench_register.py: sipd's registrar and Kamailio's, side by side, on
loopback.

Not a test: it prints figures.  sipp registers N distinct users (user1 ..
userN of example.com, one per call, from an injection file), each with
Digest authentication: REGISTER, 401, REGISTER with credentials, 200
(register.xml).  Every server checks the credentials against HA1 digests;
each runs twice, once with its bindings in memory only and once writing
every binding through to an SQLite file (WAL, synchronous FULL) before
answering:

  * sipd: `domain add`, `account add ... password ...`; "sipd-memory"
    with `set reg-durable off` (bindings in memory only, lost at a
    restart), "sipd" with `set reg-store` (the writer thread commits each
    change before the 200);
  * Kamailio (kamailio-registrar.cfg), registrar + usrloc: "kamailio" as
    its experts run it for throughput: credentials in memory (htable
    loaded from the database at start, pv_auth_check), bindings in
    memory only (usrloc db_mode 0), tlsf; "kamailio-sqlite" with auth_db
    reading the subscriber table on every REGISTER and usrloc writing
    through to SQLite (db_mode 1).  The tables are created here with the
    sqlite3 module for every run.

The headline compares like with like: sipd-memory against kamailio (both
in memory).  Second lines: sipd against kamailio-sqlite (both durable),
and sipd (durable) against kamailio (in memory), which charges sipd a
durable write Kamailio does not make.

sipd's configuration sets `auth-challenge-rate 0`: its default, 100
challenges per source per second, would drop most of a benchmark's
challenges (sipp is one source).  sipd offers MD5 only by default, as
Kamailio does: like is compared with like.

Same offered rate, same users, same number of registrations, fresh server
and fresh database for every run; servers on one CPU, sipp, the relay and
this script on another (taskset).  Measured:

  * instructions per REGISTER under callgrind (deterministic, the figure
    for a shared machine): every thread and process, N1 and N2
    registrations, (Ir(N2) - Ir(N1)) / (N2 - N1); Kamailio with 1, 2
    and 4 children, the fewest kept;

  * registrations per server CPU-second (utime+stime of the server's
    process tree from /proc), median of 3 alternating runs, min-max;
  * memory per binding: RSS and PSS growth of each server over N bindings
    / N (sipd with T1 = 10 ms, so that finished transactions do not stay
    32 s and count as bindings), and bench_reg's figure for the registrar
    library over 100,000 bindings when the binary is there.

sipp 3.6 reads only the first WWW-Authenticate of a 401 and gives up when
it is not MD5; sipd with `set auth-sha256 on` offers SHA-256 too (RFC
8760).  sipp therefore talks to every server through a small UDP relay
(this script, --md5-relay, on the load CPU) that deletes SHA-256
challenges from responses and forwards everything else unchanged; with
MD5 only on both sides it only forwards.  Every server sees the same
path.

The last line is `register+digest per CPU-second ratio vs kamailio: X.XX`
(sipd-memory over kamailio, the headline), printed only when every run
completed, every registration succeeded and every binding was found in
the server's database.

Usage: /usr/bin/python3 tests/bench/bench_register.py [--quick]
See tests/bench/README.md.
"""

import argparse
import atexit
import hashlib
import json
import os
import re
import select
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench_proxy as bp  # noqa: E402  (its helpers: /proc, processes)
import under_valgrind  # noqa: E402

REPO = bp.REPO
HOST = bp.HOST
TICK = bp.TICK
REG_XML = os.path.join(HERE, "register.xml")
KAMAILIO_CFG = os.path.join(HERE, "kamailio-registrar.cfg")
DOMAIN = "example.com"
# usrloc: the headline Kamailio keeps its bindings in memory only
# (db_mode 0, as its experts run a registrar that needs no restart
# durability); the SQLite variant writes them through (db_mode 1).
KAM_DB_MODE = {"kamailio": 0, "kamailio-sqlite": 1}
# The deterministic phase: callgrind, N registrations at CG_RATE, twice.
CG_USERS = (200, 600)
CG_RATE = 40
CG_CHILDREN = (1, 2, 4)
# Every server measured: sipd in memory only and durable, Kamailio in
# memory (htable, db_mode 0) and on SQLite (auth_db, db_mode 1).
ALL_SERVERS = ("sipd-memory", "sipd", "kamailio", "kamailio-sqlite")

PROFILES = {
    "default": dict(users=10000, rate=500, reps=3, mem_users=20000,
                    mem_rate=500, grace_s=20, budget_s=11 * 60),
    "quick": dict(users=2000, rate=500, reps=3, mem_users=2000,
                  mem_rate=500, grace_s=10, budget_s=3 * 60),
}
# sipd in the memory probe: T1 = 10 ms, so a finished REGISTER
# transaction goes after 64*T1 = 0.64 s instead of 32 s and the RSS
# growth over N bindings is the bindings' (sipd sends nothing that T1
# would retransmit: a registrar only answers).
MEM_T1_MS = 10


def password(i):
    return "pw-%d-bench" % i


def md5hex(text):
    return hashlib.md5(text.encode()).hexdigest()


# ----------------------------------------------------------- the MD5 relay

SHA_CHALLENGE = re.compile(rb"\r\n(?:WWW|Proxy)-Authenticate:[^\r]*"
                           rb"algorithm=\"?SHA-256[^\r]*", re.IGNORECASE)


def md5_relay(front_port, server_port):
    """Forward UDP between one client (sipp) and the server; delete the
    SHA-256 challenges from responses.  Runs until SIGTERM; prints its
    counts on the way out."""
    server = (HOST, server_port)
    front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    back = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for s in (front, back):
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
        s.setblocking(False)
    front.bind((HOST, front_port))
    back.bind((HOST, 0))
    counts = dict(requests=0, responses=0, sha256_removed=0)
    client = None
    stop = []

    def on_term(signum, frame):
        stop.append(1)
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    print("md5-relay: 127.0.0.1:%d <-> %s:%d (from 127.0.0.1:%d)" % (
        front_port, HOST, server_port, back.getsockname()[1]), flush=True)
    while not stop:
        try:
            ready, _, _ = select.select([front, back], [], [], 0.2)
        except InterruptedError:
            continue
        for s in ready:
            while True:
                try:
                    data, src = s.recvfrom(65536)
                except (BlockingIOError, InterruptedError):
                    break
                if s is front:
                    client = src
                    counts["requests"] += 1
                    back.sendto(data, server)
                elif client is not None:
                    counts["responses"] += 1
                    if data.startswith(b"SIP/2.0 401") or \
                            data.startswith(b"SIP/2.0 407"):
                        data, n = SHA_CHALLENGE.subn(b"", data)
                        counts["sha256_removed"] += n
                    front.sendto(data, client)
    print("md5-relay: " + json.dumps(counts), flush=True)
    return 0


# ------------------------------------------------------------------ servers

class SipdRegistrar(bp.Server):
    """sipd durable (its bindings committed to its SQLite store before
    the 200) or, durable False, in memory only (set reg-durable off)."""

    def __init__(self, args, workdir, cpus, durable=True):
        super().__init__(args, workdir, cpus)
        self.durable = durable
        self.name = "sipd" if durable else "sipd-memory"
        self.users = 0
        self.t1_ms = None
        self.store = None

    def label(self, workers=1):
        return self.name

    def modes(self):
        return ("%s: registrar, Digest (MD5 only, sipd's default, as "
                "Kamailio; qop=auth, nonce counts checked), accounts' HA1 "
                "in the configuration; %s; auth-challenge-rate 0 (no "
                "per-source cap on challenges); 1 processor; log level "
                "failure" % (self.name, "bindings in memory and written "
                             "through to SQLite (WAL, synchronous FULL) "
                             "before the 200" if self.durable else
                             "bindings in memory only (set reg-durable "
                             "off: lost at a restart, no store)"))

    def available(self):
        """Whether this sipd can run in this mode (builds before `set
        reg-durable` have no memory-only registrar)."""
        if self.durable:
            return True
        try:
            with open(self.args.sipd, "rb") as f:
                return b"reg-durable" in f.read()
        except OSError:
            return False

    def argv(self, rundir, transport, workers, port, uas_port):
        conf = os.path.join(rundir, "sipd.conf")
        # always a store of the run's own: sipd has no registrar
        # without one (the default is the state directory's)
        self.store = os.path.join(rundir, "sipd-reg.db")
        with open(conf, "w") as f:
            f.write("# written by bench_register.py\n"
                    "listener add udp %s:%d\n"
                    "set processors 1\n"
                    "log level all %s\n"
                    "set reg-store %s\n"
                    "domain add %s\n" % (HOST, port, self.args.sipd_log,
                                         self.store, DOMAIN))
            if not self.durable:
                f.write("set reg-durable off\n")
            if self.t1_ms:
                f.write("set t1 %d\n" % self.t1_ms)
            if self.challenge_rate_setting():
                # the default (100 per source per second) drops most of
                # a benchmark's challenges: sipp is one source
                f.write("set auth-challenge-rate 0\n")
            for i in range(1, self.users + 1):
                f.write("account add user%d@%s password %s\n" % (
                    i, DOMAIN, password(i)))
            if self.args.valgrind:
                f.write("".join(l + "\n" for l in
                                under_valgrind.conf_lines(self.args.sipd)))
        return (self.args.valgrind or []) + [
            self.args.sipd, "-f", "-c", conf,
            "-s", os.path.join(rundir, "sipd.sock")]

    def bindings(self):
        """Bindings in the store (None: memory only, no store)."""
        if not self.durable:
            return None
        return count_rows(self.store, "binding")

    def after_run(self):
        """What is wrong once stopped, or None: in memory only, any file
        of the store (set reg-store names it still) is."""
        if not self.durable and os.path.exists(self.store):
            return "sipd-memory wrote a store: %s" % self.store
        return None

    def challenge_rate_setting(self):
        """Whether this sipd knows `set auth-challenge-rate` (older
        builds have no cap to lift)."""
        try:
            with open(self.args.sipd, "rb") as f:
                return b"auth-challenge-rate" in f.read()
        except OSError:
            return False


class KamailioRegistrar(bp.Server):
    """Kamailio with its credentials in memory (htable loaded from the
    database at start, pv_auth_check: the headline, as sipd holds its
    accounts in memory) or read from SQLite on every REGISTER (auth_db)."""

    def __init__(self, args, workdir, cpus, creds="htable"):
        super().__init__(args, workdir, cpus)
        self.creds = creds
        self.name = "kamailio" if creds == "htable" else "kamailio-sqlite"
        self.db_mode = KAM_DB_MODE[self.name]
        if self.name == "kamailio" and args.kamailio_db_mode is not None:
            self.db_mode = args.kamailio_db_mode
        self.children = args.kamailio_children
        self.users = 0
        self.template = None
        self.db = None

    def label(self, workers=1):
        return self.name

    def modes(self):
        creds = ("auth + htable (user@domain -> HA1 loaded from the "
                 "database once at start, pv_auth_check, MD5, qop=auth, "
                 "nonce_count off)" if self.creds == "htable" else
                 "auth + auth_db (subscriber table read on every REGISTER, "
                 "HA1 precomputed, calculate_ha1=0, MD5, qop=auth, "
                 "nonce_count off)")
        return ("%s: %s, registrar + usrloc db_mode=%d (%s), "
                "use_domain=1, db_sqlite (WAL, synchronous FULL: SQLite's "
                "default), children=%d, -x %s, -m %d -M %d, debug=-1, no "
                "DNS" % (self.name, creds, self.db_mode,
                          "bindings in memory only" if self.db_mode == 0
                          else "write-through", self.children,
                          self.args.kamailio_mem, bp.KAM_SHM_MB,
                          bp.KAM_PKG_MB))

    def argv(self, rundir, transport, workers, port, uas_port):
        self.db = os.path.join(rundir, "kamailio.sqlite")
        shutil.copyfile(self.template, self.db)
        return ((self.args.valgrind or []) + [
                self.args.kamailio, "-DD", "-E", "-f", KAMAILIO_CFG,
                "-m", str(bp.KAM_SHM_MB), "-M", str(bp.KAM_PKG_MB),
                "-x", self.args.kamailio_mem, "-b", str(bp.SERVER_RCVBUF),
                "-l", "udp:%s:%d" % (HOST, port),
                "-w", rundir, "-Y", rundir,
                "-A", 'BENCH_DB_URL="sqlite:///%s"' % self.db,
                "-A", 'BENCH_DB_JOURNAL="%s=WAL;"' % self.db,
                "-A", "BENCH_USRLOC_DB_MODE=%d" % self.db_mode,
                "-A", "BENCH_CHILDREN=%d" % self.children
                ] + (["-A", "BENCH_CREDS_HTABLE"] if self.creds == "htable"
                     else []) + self.args.kamailio_arg)

    def bindings(self):
        """Bindings in the location table (None: db_mode 0 writes none)."""
        if self.db_mode == 0:
            return None
        return count_rows(self.db, "location")


def count_rows(path, table):
    """Rows of table in an SQLite file (None: unreadable)."""
    try:
        db = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=5)
        try:
            return db.execute("SELECT count(*) FROM %s" % table).fetchone()[0]
        finally:
            db.close()
    except sqlite3.Error:
        return None


# Kamailio 5.6's table versions (the version table is checked at start).
KAMAILIO_SCHEMA = """
CREATE TABLE version (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    table_name VARCHAR(32) NOT NULL,
    table_version INTEGER NOT NULL DEFAULT 0,
    UNIQUE (table_name));
CREATE TABLE subscriber (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username VARCHAR(64) NOT NULL DEFAULT '',
    domain VARCHAR(64) NOT NULL DEFAULT '',
    password VARCHAR(64) NOT NULL DEFAULT '',
    ha1 VARCHAR(128) NOT NULL DEFAULT '',
    ha1b VARCHAR(128) NOT NULL DEFAULT '',
    UNIQUE (username, domain));
CREATE INDEX subscriber_username ON subscriber (username);
CREATE TABLE location (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ruid VARCHAR(64) NOT NULL DEFAULT '',
    username VARCHAR(64) NOT NULL DEFAULT '',
    domain VARCHAR(64) DEFAULT NULL,
    contact VARCHAR(512) NOT NULL DEFAULT '',
    received VARCHAR(128) DEFAULT NULL,
    path VARCHAR(512) DEFAULT NULL,
    expires TIMESTAMP NOT NULL DEFAULT '2030-05-28 21:32:15',
    q REAL NOT NULL DEFAULT 1.0,
    callid VARCHAR(255) NOT NULL DEFAULT 'Default-Call-ID',
    cseq INTEGER NOT NULL DEFAULT 1,
    last_modified TIMESTAMP NOT NULL DEFAULT '2000-01-01 00:00:01',
    flags INTEGER NOT NULL DEFAULT 0,
    cflags INTEGER NOT NULL DEFAULT 0,
    user_agent VARCHAR(255) NOT NULL DEFAULT '',
    socket VARCHAR(64) DEFAULT NULL,
    methods INTEGER DEFAULT NULL,
    instance VARCHAR(255) DEFAULT NULL,
    reg_id INTEGER NOT NULL DEFAULT 0,
    server_id INTEGER NOT NULL DEFAULT 0,
    connection_id INTEGER NOT NULL DEFAULT 0,
    keepalive INTEGER NOT NULL DEFAULT 0,
    partition INTEGER NOT NULL DEFAULT 0,
    UNIQUE (ruid));
CREATE INDEX location_account_contact ON location (username, domain, contact);
CREATE INDEX location_expires ON location (expires);
CREATE TABLE creds (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key_name VARCHAR(64) NOT NULL DEFAULT '',
    key_type INTEGER NOT NULL DEFAULT 0,
    value_type INTEGER NOT NULL DEFAULT 0,
    key_value VARCHAR(128) NOT NULL DEFAULT '',
    expires INTEGER NOT NULL DEFAULT 0);
INSERT INTO version (table_name, table_version) VALUES
    ('subscriber', 7), ('location', 9), ('creds', 2);
"""


def make_kamailio_db(path, users):
    """The template database: the tables, N subscribers with their HA1
    (user:realm:password) and HA1b (user@domain:realm:password)."""
    if os.path.exists(path):
        os.unlink(path)
    db = sqlite3.connect(path)
    try:
        db.executescript(KAMAILIO_SCHEMA)
        rows = []
        for i in range(1, users + 1):
            u, pw = "user%d" % i, password(i)
            rows.append((u, DOMAIN, pw,
                         md5hex("%s:%s:%s" % (u, DOMAIN, pw)),
                         md5hex("%s@%s:%s:%s" % (u, DOMAIN, DOMAIN, pw))))
        db.executemany("INSERT INTO subscriber (username, domain, password,"
                       " ha1, ha1b) VALUES (?, ?, ?, ?, ?)", rows)
        # htable's copy: key user@domain, a string value, the HA1
        db.executemany("INSERT INTO creds (key_name, key_type, value_type,"
                       " key_value) VALUES (?, 0, 0, ?)",
                       [("%s@%s" % (r[0], r[1]), r[3]) for r in rows])
        db.commit()
        db.execute("PRAGMA journal_mode = WAL")
    finally:
        db.close()


def make_users_csv(path, users):
    with open(path, "w") as f:
        f.write("SEQUENTIAL\n")
        for i in range(1, users + 1):
            f.write("user%d;[authentication username=user%d password=%s]\n"
                    % (i, i, password(i)))


# -------------------------------------------------------------------- runs

class RangePorts(bp.Ports):
    """bench_proxy's free ports, from a range given (--ports LO-HI)."""

    def __init__(self, lo, hi):
        super().__init__()
        self.lo, self.hi = lo, hi
        self.next = lo

    def get(self, pair=False):
        for _ in range(self.hi - self.lo):
            p = self.next
            self.next += 3
            if self.next + 2 > self.hi:
                self.next = self.lo
            want = (p, p + 2) if pair else (p,)
            if any(q in self.used for q in want):
                continue
            if all(self._free(q) for q in want):
                self.used.update(want)
                return p
        raise bp.Abort("no free loopback port in %d-%d" % (self.lo,
                                                           self.hi))


class RegBench(bp.Bench):
    """bench_proxy's Bench for its /proc accounting and sipp statistics;
    runs of its own."""

    def __init__(self, args):  # pylint: disable=super-init-not-called
        self.args = args
        self.prof = dict(PROFILES["quick" if args.quick else "default"])
        for k in ("users", "rate", "mem_users"):
            if getattr(args, k, None):
                self.prof[k] = getattr(args, k)
        self.prof["mem_users"] = max(self.prof["mem_users"],
                                     self.prof["users"])
        self.workdir = args.workdir
        self.ports = (RangePorts(*args.ports) if args.ports
                      else bp.Ports())
        self.server_cpus, self.load_cpus = self.pinning()
        self.servers = {
            "sipd-memory": SipdRegistrar(args, self.workdir,
                                         self.server_cpus, durable=False),
            "sipd": SipdRegistrar(args, self.workdir, self.server_cpus),
            "kamailio": KamailioRegistrar(args, self.workdir,
                                          self.server_cpus, "htable"),
            "kamailio-sqlite": KamailioRegistrar(args, self.workdir,
                                                 self.server_cpus, "sqlite"),
        }
        self.results = dict(
            started=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            profile="quick" if args.quick else "default",
            settings=dict(self.prof), environment=self.environment(),
            modes={n: s.modes() for n, s in self.servers.items()},
            runs=[], errors=[])
        self.t0 = time.monotonic()
        self.seq = 0
        self.prepared = {}
        # a sipd without `set reg-durable` has no memory-only registrar
        self.usable = [n for n, srv in self.servers.items()
                       if getattr(srv, "available", lambda: True)()]

    def names(self, wanted):
        return tuple(n for n in wanted if n in self.usable)

    def _pin_text(self):
        if self.server_cpus is None:
            return ("not pinned (%s): servers, sipp and the relay share "
                    "every CPU" % ("--no-pin" if self.args.no_pin
                                   else "one CPU"))
        return ("servers on CPU %s (taskset -c %s; Kamailio's children "
                "inherit it); sipp, the MD5 relay and this script on CPU %s"
                % (self.server_cpus, self.server_cpus, self.load_cpus))

    def prepare(self, users):
        """users.csv and Kamailio's template database for N users."""
        if users in self.prepared:
            return self.prepared[users]
        d = os.path.join(self.workdir, "users-%d" % users)
        os.makedirs(d, exist_ok=True)
        csv = os.path.join(d, "users.csv")
        make_users_csv(csv, users)
        tmpl = os.path.join(d, "kamailio-template.sqlite")
        make_kamailio_db(tmpl, users)
        self.prepared[users] = (csv, tmpl)
        return csv, tmpl

    def reg_run(self, name, users, rate, kind, t1_ms=None, sample=False,
                sipp_args=(), accounts=None):
        """One sipp run of N registrations against a fresh server and
        database; returns its record.  accounts: how many users the
        server knows (default: users)."""
        if self.time_left() < 0:
            raise bp.Abort("time budget (%d s) spent" %
                           self.prof["budget_s"])
        accounts = max(accounts or users, users)
        csv, tmpl = self.prepare(accounts)
        server = self.servers[name]
        server.users = accounts
        if name.startswith("sipd"):
            server.t1_ms = t1_ms
        else:
            server.template = tmpl
        self.seq += 1
        t_run0 = time.monotonic()
        rundir = os.path.join(self.workdir, "%03d-%s-%s-%d" % (
            self.seq, kind, name, rate))
        os.makedirs(rundir)
        port, relay_port = self.ports.get(), self.ports.get()
        uac_port, uac_cp, uac_mp = (self.ports.get(), self.ports.get(),
                                    self.ports.get(pair=True))
        rec = dict(seq=self.seq, kind=kind, server=name, label=name,
                   transport="udp", workers=1, rate=rate, calls=users,
                   users=users, t1_ms=t1_ms, server_cpus=self.server_cpus,
                   load_cpus=self.load_cpus, dir=rundir)
        relay = uac = None
        status = None
        try:
            server.start(rundir, "udp", 1, port, None)
            relay = bp.PROCS.start("md5-relay", [
                sys.executable, os.path.abspath(__file__), "--md5-relay",
                str(relay_port), str(port)],
                os.path.join(rundir, "relay.out"), self.load_cpus)
            self._wait_listening(relay, relay_port, "udp", rundir)
            time.sleep(0.2)
            before = bp.snapshot(server.proc.pid)
            us_before = user_sys_ticks(before["pids"])
            nominal = users / rate
            stat_path = os.path.join(rundir, "uac_stat.csv")
            argv = [
                "sipp", "%s:%d" % (HOST, relay_port), "-sf", REG_XML,
                "-inf", csv, "-key", "domain", DOMAIN,
                "-auth_uri", DOMAIN, "-i", HOST, "-p", str(uac_port),
                "-cp", str(uac_cp), "-mp", str(uac_mp), "-t", "u1",
                "-buff_size", bp.SIPP_BUF, "-r", str(rate), "-rp", "1000",
                "-m", str(users), "-l", str(max(rate * 10, 100)),
                "-recv_timeout", "10000", "-nostdin",
                "-trace_stat", "-stf", stat_path, "-fd", "1",
                "-trace_err", "-error_file",
                os.path.join(rundir, "uac_errors.log"),
                "-trace_screen", "-screen_file",
                os.path.join(rundir, "uac_screen.log")]
            argv += list(sipp_args)
            if self.args.trace_msg:
                argv += ["-trace_msg", "-message_file",
                         os.path.join(rundir, "uac_messages.log")]
            t_start = time.monotonic()
            uac = bp.PROCS.start("sipp-uac", argv,
                                 os.path.join(rundir, "uac.out"),
                                 self.load_cpus)
            lg_before = bp.cpu_ticks([uac.pid, relay.pid])
            deadline = nominal + self.prof["grace_s"]
            rec["cut_at_deadline"] = False
            samples = []
            while uac.poll() is None:
                if time.monotonic() - t_start > deadline:
                    rec["cut_at_deadline"] = True
                    uac.send_signal(signal.SIGINT)
                    try:
                        uac.wait(timeout=5)
                    except subprocess.TimeoutExpired:
                        rec["error"] = "sipp UAC ignored SIGINT"
                    break
                if sample:
                    snap = bp.snapshot(server.proc.pid)
                    samples.append(dict(
                        t=round(time.monotonic() - t_start, 3),
                        rss_kb=snap["rss_kb"], pss_kb=snap["pss_kb"]))
                    time.sleep(0.2)
                else:
                    time.sleep(0.05)
            if samples:
                rec["samples"] = samples
            wall = time.monotonic() - t_start
            lg_after = bp.cpu_ticks([uac.pid, relay.pid])
            drops = bp.udp_drops([port, relay_port, uac_port])
            rec["udp_drops"] = {"server": drops[port],
                                "relay": drops[relay_port],
                                "uac": drops[uac_port]}
            after = bp.snapshot(server.proc.pid)
            us_after = user_sys_ticks(after["pids"])
            rec["server_user_s"] = round(
                (us_after[0] - us_before[0]) / TICK, 3)
            rec["server_sys_s"] = round(
                (us_after[1] - us_before[1]) / TICK, 3)
            alive = server.alive()
            bp.PROCS.stop(uac)
            rec["uac_status"] = uac.returncode
            # sipd's memory probe: let the last transactions (64*T1) go
            time.sleep(1.5 if t1_ms else 0.5)
            settled = bp.snapshot(server.proc.pid) if server.alive() \
                else None
            rec.update(self._account(before, after, settled, wall,
                                     lg_after - lg_before, nominal))
            rec.update(self._sipp_stats(stat_path, users, nominal))
            rec["server_alive"] = alive and server.alive()
            if not rec["server_alive"]:
                rec["error"] = ("%s died during the run; log %s:\n%s" %
                                (name, server.log_path, server.log_tail()))
        finally:
            if uac is not None:
                bp.PROCS.stop(uac)
            status = server.stop()
            if relay is not None:
                bp.PROCS.stop(relay)
            self.ports.release(port, relay_port, uac_port, uac_cp, uac_mp)
        rec["server_status"] = status
        rec["relay"] = relay_counts(os.path.join(rundir, "relay.out"))
        # every 200 must be a binding in the server's database (when it
        # has one)
        rec["stored"] = server.bindings()
        wrong = getattr(server, "after_run", lambda: None)()
        if rec.get("error") is None and wrong:
            rec["error"] = wrong
        if rec.get("error") is None and rec["stored"] is not None and \
                rec["stored"] != rec["successful"]:
            rec["error"] = ("%s 200s but %s bindings in %s's database" % (
                rec["successful"], rec["stored"], name))
        if rec["server_cpu_s"] > 0:
            rec["regs_per_cpu_s"] = round(
                rec["successful"] / rec["server_cpu_s"], 1)
        else:
            rec["regs_per_cpu_s"] = None
        rec["run_s"] = round(time.monotonic() - t_run0, 2)
        if rec["failed"]:
            rec["error_excerpt"] = error_excerpt(rundir)
        self.results["runs"].append(rec)
        return rec

    # ------------------------------------------------------------- phases

    def fixed(self):
        users, rate = self.prof["users"], self.prof["rate"]
        names = self.names(ALL_SERVERS)
        out = self.results["fixed"] = {n: [] for n in names}
        for rep in range(self.prof["reps"]):
            k = rep % len(names)
            order = names[k:] + names[:k]
            for name in order:
                rec = self.reg_run(name, users, rate, "fixed")
                rec["rep"] = rep
                out[name].append(rec)
                self.line(rec)
        return out

    def memory(self):
        users, rate = self.prof["mem_users"], self.prof["mem_rate"]
        out = self.results["memory"] = {}
        for name in self.names(("sipd-memory", "sipd", "kamailio")):
            rec = self.reg_run(name, users, rate, "memory",
                               t1_ms=MEM_T1_MS if name.startswith("sipd")
                               else None,
                               sample=True)
            self.line(rec)
            r = dict(server=name, users=users, run=rec["seq"],
                     successful=rec["successful"], stored=rec["stored"],
                     error=rec.get("error"),
                     rss_slope_bytes_per_binding=slope(
                         rec.get("samples"), "rss_kb", rate, users),
                     pss_slope_bytes_per_binding=slope(
                         rec.get("samples"), "pss_kb", rate, users))
            if rec["stored"] is None:
                r["stored"] = rec["successful"]  # no database to count
            if rec.get("rss_after_kb") is not None and r["stored"]:
                r.update(
                    rss_base_kb=rec["rss_start_kb"],
                    rss_after_kb=rec["rss_after_kb"],
                    pss_base_kb=rec["pss_start_kb"],
                    pss_after_kb=rec["pss_after_kb"],
                    rss_bytes_per_binding=round(
                        (rec["rss_after_kb"] - rec["rss_start_kb"]) * 1024
                        / r["stored"]),
                    pss_bytes_per_binding=round(
                        (rec["pss_after_kb"] - rec["pss_start_kb"]) * 1024
                        / r["stored"]))
            out[name] = r
        return out

    def callgrind(self):
        """Instructions per REGISTER (both requests), deterministic: each
        server under callgrind (every thread, and every Kamailio process:
        --trace-children, one file per process), N1 and N2 registrations
        at a rate a server under valgrind holds, fresh each time, stopped
        with SIGTERM; (Ir(N2) - Ir(N1)) / (N2 - N1) leaves out start-up
        and shut-down.  Kamailio runs with each children count asked for
        and the fewest instructions are kept (its experts would pick)."""
        n1, n2 = self.args.cg_users
        out = self.results["callgrind"] = {}
        for name in self.names(self.args.cg_servers):
            server = self.servers[name]
            # Kamailio writing through to SQLite under valgrind does not
            # hold 40/s on a loaded machine (sipp, without
            # retransmissions, gives up on the late answers): half
            rate = self.args.cg_rate
            if name == "kamailio-sqlite":
                rate = self.args.cg_rate_sqlite or max(1, rate // 2)
            counts = self.args.cg_children if name.startswith(
                "kamailio") else (1,)
            per_children = {}
            for ch in counts:
                if name.startswith("kamailio"):
                    server.children = ch
                irs = []
                for n in (n1, n2):
                    self.args.valgrind = [
                        "valgrind", "--tool=callgrind", "--trace-children=yes",
                        "--callgrind-out-file=CGDIR/cg.%p"]
                    seq = self.seq + 1
                    rundir = os.path.join(self.workdir, "%03d-%s-%s-%d" % (
                        seq, "callgrind", name, rate))
                    self.args.valgrind[-1] = \
                        "--callgrind-out-file=%s/cg.%%p" % rundir
                    try:
                        # -nr: no retransmissions (loopback loses
                        # nothing), so a slow server under valgrind is
                        # not sent the same REGISTER twice and every run
                        # does the same work
                        # both runs' servers know the same accounts, so
                        # that loading them cancels out too
                        rec = self.reg_run(name, n, rate, "callgrind",
                                           sipp_args=("-nr",),
                                           accounts=n2)
                    finally:
                        self.args.valgrind = None
                    self.line(rec)
                    if rec["failed"] or rec.get("error"):
                        # that children count is out (Kamailio's
                        # usrloc on SQLite answers 500 when two
                        # processes write at once under valgrind)
                        irs = "run #%d: %s" % (
                            rec["seq"], rec.get("error") or
                            "%d registrations failed" % rec["failed"])
                        break
                    files = [f for f in os.listdir(rundir)
                             if f.startswith("cg.")]
                    irs.append(sum(bp.callgrind_ir(os.path.join(rundir, f))
                                   for f in files))
                if isinstance(irs, str):
                    per_children[ch] = dict(error=irs)
                    print("  callgrind %-15s children=%d: %s" % (
                        name, ch, irs), flush=True)
                    continue
                per = (irs[1] - irs[0]) / float(n2 - n1)
                per_children[ch] = dict(ir=irs, per_register=round(per))
                print("  callgrind %-15s %s%d regs: %d Ir, %d regs: %d Ir;"
                      " %.0f instructions per REGISTER" % (
                          name, "children=%d, " % ch if len(counts) > 1 or
                          name.startswith("kamailio") else "", n1, irs[0],
                          n2, irs[1], per), flush=True)
            ok = [c for c in per_children if "error" not in per_children[c]]
            if not ok:
                out[name] = dict(error="; ".join(
                    v["error"] for v in per_children.values()))
                continue
            best = min(ok, key=lambda c: per_children[c]["per_register"])
            out[name] = dict(users=[n1, n2], rate=rate,
                             runs={str(c): v for c, v in
                                   per_children.items()},
                             children=best if name.startswith("kamailio")
                             else None,
                             per_register=per_children[best]["per_register"])
        return out

    @staticmethod
    def line(rec):
        rps = rec.get("regs_per_cpu_s")
        flags = []
        if rec.get("error"):
            flags.append("ERROR")
        d = rec.get("udp_drops")
        if d and any(d.values()):
            flags.append("drops " + ",".join(
                "%s:%d" % (k, v) for k, v in d.items() if v))
        if rec.get("retransmissions"):
            flags.append("%d retransmissions" % rec["retransmissions"])
        print("  #%-3d %-6s %-9s %4d/s %6d users: %6d ok %5d failed, %6s "
              "stored, wall %5.1fs, server CPU %6.2fs (user %.2f sys %.2f, "
              "%3.0f%%), sipp+relay CPU %3.0f%%%s%s" % (
                  rec["seq"], rec["kind"], rec["server"], rec["rate"],
                  rec["users"], rec["successful"], rec["failed"],
                  rec.get("stored"), rec["wall_s"], rec["server_cpu_s"],
                  rec.get("server_user_s", 0), rec.get("server_sys_s", 0),
                  100 * (rec["server_util"] or 0),
                  100 * (rec["load_util"] or 0),
                  ", %.0f reg/CPU-s" % rps if rps else "",
                  (" [" + " ".join(flags) + "]") if flags else ""),
              flush=True)
        if rec.get("error"):
            print("       error: %s" % rec["error"], flush=True)
        if rec.get("error_excerpt"):
            print("       sipp's error log (first lines):\n" +
                  "\n".join("         " + ln for ln in
                            rec["error_excerpt"].splitlines()), flush=True)


def slope(samples, key, rate, users):
    """Bytes per binding over the second half of a run: the least-squares
    slope of memory against the bindings made by then (rate * t: sipp
    keeps the rate, each registration takes a few ms), which leaves out
    what a server allocates once (caches, tables, the first pages of the
    store).  None with too few samples."""
    nominal = users / rate
    pts = [(rate * s["t"], s[key] * 1024.0) for s in samples or []
           if nominal * 0.5 <= s["t"] <= nominal - 0.3]
    if len(pts) < 4:
        return None
    mx = sum(x for x, _ in pts) / len(pts)
    my = sum(y for _, y in pts) / len(pts)
    sxx = sum((x - mx) ** 2 for x, _ in pts)
    if sxx <= 0:
        return None
    return round(sum((x - mx) * (y - my) for x, y in pts) / sxx)


def user_sys_ticks(pids):
    """(utime, stime) summed over pids, in clock ticks."""
    u = k = 0
    for pid in pids:
        try:
            f = bp._stat_fields(pid)
        except (OSError, ValueError):
            continue
        u += int(f[11])
        k += int(f[12])
    return u, k


def relay_counts(path):
    try:
        with open(path) as f:
            for line in f:
                if line.startswith("md5-relay: {"):
                    return json.loads(line.split(": ", 1)[1])
    except (OSError, ValueError):
        pass
    return None


def error_excerpt(rundir, n=40):
    try:
        with open(os.path.join(rundir, "uac_errors.log"),
                  errors="replace") as f:
            return "".join(f.readlines()[:n])
    except OSError:
        return ""


# ---------------------------------------------------------------- bench_reg

def find_bench_reg(arg):
    if arg:
        return arg if os.access(arg, os.X_OK) else None
    for d in ("build", "build-bench", "build-rel"):
        p = os.path.join(REPO, d, "tests", "bench", "bench_reg")
        if os.access(p, os.X_OK):
            return p
    return None


def run_bench_reg(path, workdir, cpus, n=100000):
    """bench_reg N DIR: the registrar library's own figures."""
    d = os.path.join(workdir, "bench_reg")
    os.makedirs(d, exist_ok=True)
    argv = [path, str(n), d]
    if cpus is not None:
        argv = ["taskset", "-c", cpus] + argv
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=180)
    except (OSError, subprocess.TimeoutExpired) as e:
        return dict(error=str(e))
    lines = [ln.strip() for ln in r.stdout.splitlines() if ln.strip()]
    with open(os.path.join(d, "output.txt"), "w") as f:
        f.write(r.stdout + "\n--- stderr\n" + r.stderr)
    out = dict(command=" ".join(argv), status=r.returncode, lines=lines)
    for ln in lines:
        m = re.match(r"(memory only|sqlite NORMAL|sqlite FULL)\s+(\d+) "
                     r"bindings\s+([\d.]+) us/REGISTER.*= (\d+) "
                     r"bytes/binding", ln)
        if m:
            out.setdefault("rows", []).append(dict(
                store=m.group(1), bindings=int(m.group(2)),
                us_per_register=float(m.group(3)),
                bytes_per_binding=int(m.group(4))))
    if r.returncode != 0:
        out["error"] = "exit status %d: %s" % (r.returncode,
                                                r.stderr.strip()[-500:])
    return out


# ------------------------------------------------------------------ report

def summary_table(p, runs):
    print("\nREGISTER + Digest, UDP, 1 worker, %d users at %d/s: median "
          "(min-max) of %d runs" % (p["users"], p["rate"], p["reps"]))
    print("  %-15s %-24s %-12s %-20s %-22s %-22s" % (
        "server", "registrations/CPU-s", "failed", "server CPU-s",
        "peak RSS MB (VmHWM)", "RSS after MB"))
    summ = {}
    for name, recs in runs.items():
        if not recs:
            continue
        s = dict(regs_per_cpu_s=bp.med([r.get("regs_per_cpu_s")
                                        for r in recs]),
                 failed=sum(r["failed"] for r in recs),
                 users=sum(r["users"] for r in recs),
                 cpu_s=bp.med([r["server_cpu_s"] for r in recs]),
                 hwm_kb=bp.med([r["hwm_kb"] for r in recs]),
                 rss_after_kb=bp.med([r["rss_after_kb"] for r in recs]),
                 runs=[r["seq"] for r in recs])
        summ[name] = s
        print("  %-15s %-24s %-12s %-20s %-22s %-22s" % (
            name, bp.fmt(s["regs_per_cpu_s"]),
            "%d/%d" % (s["failed"], s["users"]), bp.fmt(s["cpu_s"], 1, 2),
            bp.fmt(s["hwm_kb"], 1024, 1), bp.fmt(s["rss_after_kb"], 1024, 1)))
        s["user_s"] = bp.med([r.get("server_user_s") for r in recs])
        s["sys_s"] = bp.med([r.get("server_sys_s") for r in recs])
        m, lo, hi = s["regs_per_cpu_s"]
        if m:
            print("  %-15s spread %.1f %% ((max-min)/median); CPU-s user %s,"
                  " sys %s" % ("", 100.0 * (hi - lo) / m,
                               bp.fmt(s["user_s"], 1, 2),
                               bp.fmt(s["sys_s"], 1, 2)))
    return summ


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--md5-relay":
        return md5_relay(int(sys.argv[2]), int(sys.argv[3]))
    ap = argparse.ArgumentParser(
        description="sipd's registrar against Kamailio's, REGISTER with "
        "Digest, side by side (tests/bench/README.md)")
    ap.add_argument("--quick", action="store_true",
                    help="a smoke run under 2 minutes")
    ap.add_argument("--sipd", default=os.path.join(REPO, "build", "sipd",
                                                   "sipd"),
                    help="the sipd binary (default: build/sipd/sipd)")
    ap.add_argument("--kamailio", default=shutil.which("kamailio") or
                    "/usr/sbin/kamailio", help="the kamailio binary")
    ap.add_argument("--kamailio-mem", default=bp.KAM_MEM_MANAGER,
                    choices=("tlsf", "fm", "qm"),
                    help="Kamailio's memory manager, -x (default %s)" %
                    bp.KAM_MEM_MANAGER)
    ap.add_argument("--kamailio-children", type=int, default=1,
                    choices=(1, 2, 4, 8),
                    help="Kamailio's UDP receivers, children= (default 1; "
                    "run 1, 2 and 4 and keep the best)")
    ap.add_argument("--ports", type=lambda v: tuple(
        int(x) for x in v.split("-")), help="loopback ports to use, LO-HI "
                    "(default: free ones from 20000)")
    ap.add_argument("--kamailio-db-mode", type=int, choices=(0, 1),
                    help="usrloc db_mode of the headline Kamailio (default "
                    "0: bindings in memory; 1: written through to SQLite)")
    ap.add_argument("--cg-users", type=lambda v: tuple(
        int(x) for x in v.split(",")), default=CG_USERS,
                    help="the callgrind phase's two run sizes, N1,N2 "
                    "(default %d,%d)" % CG_USERS)
    ap.add_argument("--cg-rate", type=int, default=CG_RATE,
                    help="registrations per second under callgrind "
                    "(default %d)" % CG_RATE)
    ap.add_argument("--cg-rate-sqlite", type=int,
                    help="the same for kamailio-sqlite (default half of "
                    "--cg-rate)")
    ap.add_argument("--cg-children", type=lambda v: tuple(
        int(x) for x in v.split(",")), default=CG_CHILDREN,
                    help="Kamailio's children counts under callgrind, the "
                    "fewest instructions kept (default 1,2,4)")
    ap.add_argument("--cg-servers", type=lambda v: tuple(v.split(",")),
                    default=ALL_SERVERS,
                    help="servers of the callgrind phase (default %s)" %
                    ",".join(ALL_SERVERS))
    ap.add_argument("--kamailio-arg", action="append", default=[],
                    help="one more kamailio argument (repeat the option)")
    ap.add_argument("--bench-reg", help="the bench_reg binary (default: "
                    "build/tests/bench/bench_reg if built)")
    ap.add_argument("--users", type=int, help="users registered per run")
    ap.add_argument("--rate", type=int, help="registrations per second "
                    "offered")
    ap.add_argument("--mem-users", type=int,
                    help="bindings of the memory probe")
    ap.add_argument("--server-cpus", default="1",
                    help="taskset list for the servers (default 1)")
    ap.add_argument("--load-cpus", default="0",
                    help="taskset list for sipp, the relay and this script "
                    "(default 0)")
    ap.add_argument("--no-pin", action="store_true", help="no taskset")
    ap.add_argument("--nice", type=int, default=0,
                    help="run the servers, sipp and the relay at this nice "
                    "value (default 0)")
    ap.add_argument("--sipd-log", default="failure",
                    choices=("none", "failure", "major", "problems",
                             "low-level", "all"),
                    help="sipd's log level (default failure: errors only)")
    ap.add_argument("--trace-msg", action="store_true",
                    help="sipp logs every message (uac_messages.log; costs "
                    "the load generator, to diagnose failures)")
    ap.add_argument("--only", choices=("callgrind", "fixed", "memory",
                                       "bench_reg"),
                    action="append", help="run only these phases (no ratio "
                    "line)")
    ap.add_argument("--json", help="where to write every run (default: "
                    "results.json in the run's directory)")
    args = ap.parse_args()

    missing = []
    if not os.access(args.kamailio, os.X_OK):
        missing.append("kamailio not found (%s): `apt-get install -y "
                       "kamailio kamailio-sqlite-modules`" % args.kamailio)
    else:
        mods = subprocess.run([args.kamailio, "-I"], capture_output=True,
                              text=True).stdout
        moddir = re.search(r"MODULES_DIR\s+(\S+)", mods)
        moddir = moddir.group(1) if moddir else \
            "/usr/lib/x86_64-linux-gnu/kamailio/modules/"
        for mod in ("db_sqlite", "auth_db", "usrloc", "registrar"):
            if not os.path.exists(os.path.join(moddir, mod + ".so")):
                missing.append("Kamailio module %s.so not in %s: `apt-get "
                               "install -y kamailio kamailio-sqlite-modules`"
                               % (mod, moddir))
    if shutil.which("sipp") is None:
        missing.append("sipp not found: `apt-get install -y sip-tester`")
    if shutil.which("taskset") is None and not args.no_pin:
        missing.append("taskset not found: `apt-get install -y util-linux`"
                       " or use --no-pin")
    if not os.access(args.sipd, os.X_OK):
        missing.append("sipd not found at %s: build it (cmake -S . -B build "
                       "-DCMAKE_BUILD_TYPE=Release && cmake --build build) "
                       "or give --sipd PATH" % args.sipd)
    if missing:
        for m in missing:
            print("bench_register: " + m, file=sys.stderr)
        print("bench_register: not run", file=sys.stderr)
        return 2
    args.sipd = os.path.abspath(args.sipd)
    bp.PROCS.nice = args.nice
    args.workdir = tempfile.mkdtemp(prefix="bench_register-")
    args.valgrind = None  # set around the callgrind phase's runs
    json_path = args.json or os.path.join(args.workdir, "results.json")
    signal.signal(signal.SIGINT, bp._on_signal)
    signal.signal(signal.SIGTERM, bp._on_signal)
    atexit.register(bp.PROCS.stop_all)

    bench = RegBench(args)
    if bench.load_cpus is not None:
        try:
            os.sched_setaffinity(0, set(bp._cpu_list(bench.load_cpus)))
        except (OSError, ValueError):
            pass
    p = bench.prof
    res = bench.results
    if "callgrind" in (args.only or ["callgrind"]):
        # under valgrind: 2 sizes x (sipd, 2 Kamailios x 3
        # children counts), about 20 s each
        p["budget_s"] += 12 * 60
    bench_reg = find_bench_reg(args.bench_reg)
    print("bench_register: sipd %s vs %s" % (
        args.sipd, res["environment"]["kamailio"]))
    print("pinning: " + bench.pin_text())
    print("load average at start: %s (shared machine: figures are noisy)" %
          " ".join(res["environment"]["loadavg_start"] or []))
    print("modes:\n  " + "\n  ".join(res["modes"][n]
                                      for n in ALL_SERVERS))
    for n in ALL_SERVERS:
        if n not in bench.usable:
            print("%s: not run (this sipd has no `set reg-durable`)" % n)
    print("client path: sipp 3.6 (MD5 only, first challenge only) -> UDP "
          "relay that deletes SHA-256 challenges -> server, for both "
          "servers")
    print("logs and per-run files: %s" % args.workdir, flush=True)
    phases = args.only or ["callgrind", "fixed", "memory", "bench_reg"]
    partial = []
    try:
        if "callgrind" in phases:
            if shutil.which("valgrind") is None:
                raise bp.Abort("valgrind not found: apt-get install -y "
                               "valgrind")
            print("\n[0] instructions per REGISTER under callgrind: %d and "
                  "%d registrations at %d/s, every thread and process; "
                  "Kamailio's children %s, the fewest kept" % (
                      args.cg_users[0], args.cg_users[1], args.cg_rate,
                      "/".join(str(c) for c in args.cg_children)),
                  flush=True)
            bench.callgrind()
        if "fixed" in phases:
            print("\n[1] REGISTER + Digest, %d users per run at %d/s, %d "
                  "runs per server, alternating" % (p["users"], p["rate"],
                                                     p["reps"]), flush=True)
            bench.fixed()
        if "memory" in phases:
            print("\n[2] memory per binding: %d users at %d/s, once per "
                  "server (sipd with T1 = %d ms: its finished transactions "
                  "go after %d ms, not 32 s)" % (
                      p["mem_users"], p["mem_rate"], MEM_T1_MS,
                      64 * MEM_T1_MS), flush=True)
            bench.memory()
        if "bench_reg" in phases:
            print("\n[3] bench_reg (the registrar library, no SIP "
                  "transport, 100,000 bindings)", flush=True)
            if bench_reg is None:
                res["bench_reg"] = dict(error="not found")
                print("  bench_reg not found: build it with cmake -S . -B "
                      "build -DSIPD_TESTS=ON -DSIPD_BENCH=ON && cmake "
                      "--build build --target bench_reg, or give "
                      "--bench-reg PATH; not run", flush=True)
            elif bench.time_left() < 30:
                res["bench_reg"] = dict(error="no time left")
                partial.append("bench_reg: no time left in the budget")
            else:
                res["bench_reg"] = run_bench_reg(bench_reg, args.workdir,
                                                 bench.server_cpus)
                for ln in res["bench_reg"].get("lines", []):
                    print("  " + ln, flush=True)
                if res["bench_reg"].get("error"):
                    print("  bench_reg: %s" % res["bench_reg"]["error"])
    except bp.Abort as e:
        partial.append(str(e))
        res["errors"].append(str(e))
        print("\nbench_register: ABORTED: %s" % e, flush=True)
    except KeyboardInterrupt:
        partial.append("interrupted")
        res["errors"].append("interrupted")
        print("\nbench_register: interrupted", flush=True)
    finally:
        bp.PROCS.stop_all()

    # ------------------------------------------------------------ summary
    res["environment"]["loadavg_end"] = bench.loadavg()
    res["elapsed_s"] = round(time.monotonic() - bench.t0, 1)
    print("\n==== results (%s run, %.0f s; load average %s -> %s) ====" % (
        res["profile"], res["elapsed_s"],
        " ".join(res["environment"]["loadavg_start"] or []),
        " ".join(res["environment"]["loadavg_end"] or [])))
    print("pinning: " + bench.pin_text())
    print("modes: kamailio usrloc db_mode=%d, kamailio-sqlite db_mode=%d "
          "(write-through) on db_sqlite, WAL; sipd reg-store SQLite, WAL, "
          "synchronous FULL; sipd-memory reg-durable off (no store)" % (
              bench.servers["kamailio"].db_mode,
              bench.servers["kamailio-sqlite"].db_mode))
    cg = res.get("callgrind") or {}
    if cg:
        print("\nInstructions per REGISTER (callgrind, user space, every "
              "thread and process; (Ir(%d) - Ir(%d)) / %d)" % (
                  args.cg_users[1], args.cg_users[0],
                  args.cg_users[1] - args.cg_users[0]))
        for name, c in cg.items():
            if c.get("error"):
                print("  %-15s %s" % (name, c["error"]))
                partial.append("callgrind %s: %s" % (name, c["error"]))
                continue
            print("  %-15s %8d%s" % (
                name, c["per_register"], "  (children=%d; %s)" % (
                    c["children"], ", ".join(
                        "%s: %s" % (k, v.get("per_register",
                                            v.get("error")))
                        for k, v in c["runs"].items()))
                if c.get("children") else ""))
    summ = {}
    if res.get("fixed"):
        summ = summary_table(p, res["fixed"])
    mem = res.get("memory") or {}
    if mem:
        print("\nMemory per binding (%d bindings, fresh server; RSS and PSS "
              "growth over the run / bindings stored)" % p["mem_users"])
        for name in ("sipd-memory", "sipd", "kamailio"):
            m = mem.get(name)
            if not m:
                continue
            if "rss_bytes_per_binding" not in m:
                print("  %-10s %s" % (name, m.get("error") or "no figure"))
                continue
            print("  %-10s RSS +%d B/binding (%.1f -> %.1f MB), PSS +%d "
                  "B/binding (%.1f -> %.1f MB); %d stored" % (
                      name, m["rss_bytes_per_binding"],
                      m["rss_base_kb"] / 1024, m["rss_after_kb"] / 1024,
                      m["pss_bytes_per_binding"], m["pss_base_kb"] / 1024,
                      m["pss_after_kb"] / 1024, m["stored"]))
            if m.get("rss_slope_bytes_per_binding") is not None:
                print("  %-10s second half of the run: RSS +%d B/binding, "
                      "PSS +%d B/binding (slope; without what is allocated "
                      "once)" % ("", m["rss_slope_bytes_per_binding"],
                                 m["pss_slope_bytes_per_binding"] or 0))
        print("  (Kamailio's RSS is summed over its processes, which share "
              "its shm; PSS counts it once.  sipd's figure includes the "
              "allocator's slack and the transactions of the last 0.64 s.)")
    br = res.get("bench_reg") or {}
    for row in br.get("rows", []):
        if row["store"] == "memory only":
            print("  %-10s bench_reg, registrar library, %d bindings in "
                  "memory: %d B/binding" % ("sipd", row["bindings"],
                                            row["bytes_per_binding"]))
        elif row["store"] == "sqlite NORMAL":
            print("  %-10s bench_reg, same with the SQLite store: %d "
                  "B/binding" % ("", row["bytes_per_binding"]))

    # ---------------------------------------------------------- verdict
    for r in res["runs"]:
        if r.get("error"):
            partial.append("run #%d (%s %s): %s" % (
                r["seq"], r["server"], r["kind"], r["error"]))
        elif r["failed"]:
            partial.append("run #%d (%s %s): %d of %d registrations failed"
                           " %s" % (r["seq"], r["server"], r["kind"],
                                    r["failed"], r["users"],
                                    r.get("failed_detail")))
    for name in ALL_SERVERS:
        if name not in bench.usable and "fixed" in phases:
            partial.append("%s: not run (this sipd has no `set "
                           "reg-durable`)" % name)
    for name in bench.usable:
        got = len((res.get("fixed") or {}).get(name, []))
        if "fixed" in phases and got < p["reps"]:
            partial.append("%s: %d of %d fixed-rate runs" % (name, got,
                                                             p["reps"]))
    if args.only:
        partial.append("--only: not a full run")
    res["partial"] = partial
    res["summary"] = summ
    with open(json_path, "w") as f:
        json.dump(res, f, indent=1, default=str)
    print("\nevery run: %s" % json_path)

    # The ratios, Kamailio's figure over sipd's for instructions and
    # sipd's over Kamailio's for registrations per CPU-second (above 1:
    # sipd does better).  Second lines first: sipd durable against
    # Kamailio durable (auth_db + db_mode 1) and against Kamailio in
    # memory; last, the headline, like with like: sipd in memory only
    # against Kamailio in memory (htable + db_mode 0).
    pairs = (("sipd", "kamailio-sqlite", " with credentials in SQLite "
              "(auth_db)"),
             ("sipd", "kamailio", ", sipd durable, kamailio in memory"),
             ("sipd-memory", "kamailio", ""))

    def cg_per(name):
        return (cg.get(name) or {}).get("per_register")
    for mine, theirs, what in pairs:
        if cg_per(mine) and cg_per(theirs):
            print("register+digest instructions ratio vs kamailio%s: %.2f"
                  % (what, cg_per(theirs) / cg_per(mine)))

    def rps(name):
        return ((summ.get(name) or {}).get("regs_per_cpu_s") or (None,))[0]
    ok = not partial and rps("sipd-memory") and rps("kamailio")
    if not ok:
        for m in partial:
            print("PARTIAL: " + m)
        print("bench_register: failed or partial run: no ratio")
        return 1
    for mine, theirs, what in pairs:
        if rps(mine) and rps(theirs):
            print("register+digest per CPU-second ratio vs kamailio%s: %.2f"
                  % (what, rps(mine) / rps(theirs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

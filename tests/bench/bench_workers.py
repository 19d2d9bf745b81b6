#!/usr/bin/python3
"""What a second worker costs on one core, with and without worker ports.

Not part of the test suite.  sipd is pinned to one CPU (--server-cpu) and
driven by loadgen.c (built with cc into a temporary directory, pinned to
--load-cpu) at each --rates rate for --seconds, once per configuration in
turn, --rounds times (alternating, so a noisy neighbour hits every
configuration alike):

  1w      set processors 1
  2w-off  set processors 2 (the Call-ID's worker owns a call)
  2w      set processors 2, set worker-ports auto (steering)

For each run: sipd's CPU time (utime + stime of the process, from the
first call to loadgen's exit), its voluntary context switches (sleeps)
summed over its threads, and "show stats" handed-off, each per call;
printed as medians over the rounds with the load average.

  tests/bench/bench_workers.py --sipd build-rel/sipd/sipd \\
      --sipctl build-rel/sipctl/sipctl --rates 500,3000 --rounds 3
"""

import argparse
import glob
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
HOST = "127.0.0.1"
DOMAIN = "bench.invalid"
CONFIGS = (("1w", 1, "off"), ("2w-off", 2, "off"), ("2w", 2, "auto"))


def free_port(span=1):
    """A UDP port with the span-1 after it free too (bounded tries)."""
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind((HOST, 0))
            p = s.getsockname()[1]
        if p + span > 65535:
            continue
        ok = True
        for q in range(p, p + span):
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                try:
                    s.bind((HOST, q))
                except OSError:
                    ok = False
        if ok:
            return p
    sys.exit("no free ports")


def ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime


def sleeps(pid):
    n = 0
    for st in glob.glob("/proc/%d/task/*/status" % pid):
        try:
            with open(st) as f:
                m = re.search(r"^voluntary_ctxt_switches:\s+(\d+)", f.read(),
                              re.M)
        except OSError:
            continue
        n += int(m.group(1)) if m else 0
    return n


def handed_off(sipctl, sock):
    r = subprocess.run([sipctl, "-s", sock, "-j", "show", "stats"],
                       stdout=subprocess.PIPE, text=True, timeout=10)
    m = re.search(r'"handed-off"\s*:\s*(\d+)', r.stdout)
    return int(m.group(1)) if m else -1


def ready(port, timeout=5.0):
    msg = ("OPTIONS sip:%s:%d SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch="
           "z9hG4bKbw%d;rport\r\nMax-Forwards: 70\r\nFrom: <sip:b@x>;tag=1\r\n"
           "To: <sip:b@x>\r\nCall-ID: bw%d\r\nCSeq: 1 OPTIONS\r\n"
           "Content-Length: 0\r\n\r\n")
    end = time.monotonic() + timeout
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((HOST, 0))
        s.settimeout(0.1)
        for i in range(200):
            if time.monotonic() > end:
                break
            s.sendto((msg % (HOST, port, HOST, i, i)).encode(),
                     (HOST, port))
            try:
                s.recvfrom(4096)
                return True
            except socket.timeout:
                pass
    return False


def run(args, lg, cfg, rate, workdir):
    name, workers, wports = cfg
    port = free_port(1 + workers + 1)
    uac, uas = free_port(), free_port()
    conf = os.path.join(workdir, "sipd.conf")
    sock = os.path.join(workdir, "sipd.sock")
    with open(conf, "w") as f:
        f.write("listener add udp %s:%d\nroute add %s %s:%d\n"
                "set force-rr on\nset processors %d\nset worker-ports %s\n"
                "log level all none\n" % (HOST, port, DOMAIN, HOST, uas,
                                          workers, wports))
    log = open(os.path.join(workdir, "sipd.log"), "w")
    sipd = subprocess.Popen(["taskset", "-c", args.server_cpu, args.sipd,
                             "-f", "-c", conf, "-s", sock],
                            stdout=log, stderr=log)
    try:
        if not ready(port):
            sys.exit("sipd did not start (%s)" % name)
        calls = rate * args.seconds
        t0, s0, h0 = ticks(sipd.pid), sleeps(sipd.pid), handed_off(
            args.sipctl, sock)
        out = subprocess.run(
            ["taskset", "-c", args.load_cpu, lg, "-t", "udp", "-r",
             str(rate), "-n", str(calls), "-T", str(args.seconds + 20),
             "-i", HOST, "-s", str(port), "-p", str(uac), "-u", str(uas)],
            stdout=subprocess.PIPE, text=True, timeout=args.seconds + 60)
        t1, s1, h1 = ticks(sipd.pid), sleeps(sipd.pid), handed_off(
            args.sipctl, sock)
    finally:
        sipd.terminate()
        sipd.wait(timeout=30)
        log.close()
    hz = os.sysconf("SC_CLK_TCK")
    ok = re.search(r"\bok=(\d+)", out.stdout)
    return {"config": name, "rate": rate, "calls": calls,
            "ok": int(ok.group(1)) if ok else None,
            "us_per_call": (t1 - t0) / hz * 1e6 / calls,
            "sleeps_per_call": (s1 - s0) / calls,
            "handoffs_per_call": (h1 - h0) / calls,
            "loadgen": out.stdout.strip().splitlines()[-1:]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sipd", required=True)
    ap.add_argument("--sipctl", required=True)
    ap.add_argument("--rates", default="500,3000")
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--server-cpu", default="1")
    ap.add_argument("--load-cpu", default="0")
    ap.add_argument("--json")
    args = ap.parse_args()
    if shutil.which("taskset") is None or shutil.which("cc") is None:
        sys.exit("taskset and cc needed")
    workdir = tempfile.mkdtemp(prefix="bench_workers-")
    lg = os.path.join(workdir, "loadgen")
    subprocess.run(["cc", "-O2", "-o", lg, os.path.join(HERE, "loadgen.c")],
                   check=True)
    print("load average before: %s" % open("/proc/loadavg").read().strip())
    runs = []
    for rate in [int(r) for r in args.rates.split(",")]:
        for rnd in range(args.rounds):
            for cfg in CONFIGS:
                r = run(args, lg, cfg, rate, workdir)
                r["round"] = rnd
                runs.append(r)
                print("%-7s %5d/s round %d: %.1f us/call, %.3f sleeps/call, "
                      "%.3f hand-offs/call, ok %s/%d" % (
                          r["config"], rate, rnd, r["us_per_call"],
                          r["sleeps_per_call"], r["handoffs_per_call"],
                          r["ok"], r["calls"]), flush=True)
    print("load average after: %s" % open("/proc/loadavg").read().strip())
    print("\nmedians (%d rounds, %d s each):" % (args.rounds, args.seconds))
    for rate in [int(r) for r in args.rates.split(",")]:
        base = None
        for cfg in CONFIGS:
            sel = [r for r in runs if r["rate"] == rate and
                   r["config"] == cfg[0]]
            us = statistics.median(r["us_per_call"] for r in sel)
            base = base or us
            print("  %5d/s %-7s %7.1f us CPU/call (%+.1f%% vs 1w)  "
                  "%.3f sleeps/call  %.3f hand-offs/call" % (
                      rate, cfg[0], us, 100 * (us / base - 1),
                      statistics.median(r["sleeps_per_call"] for r in sel),
                      statistics.median(r["handoffs_per_call"]
                                        for r in sel)))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(runs, f, indent=1)


main()

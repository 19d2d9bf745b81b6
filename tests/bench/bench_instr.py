#!/usr/bin/python3
"""bench_instr: user-space instructions per proxied call, under callgrind.

Not part of the test suite, not run by CI.  It starts sipd under
valgrind --tool=callgrind (UDP, one worker, Record-Route forced), drives
it with loadgen.c (INVITE, 100, 180, 200, ACK, BYE, 200 over UDP, paced),
once with N1 and once with N2 calls, stops sipd with SIGTERM when the
calls are done, and prints (Ir of the N2 run - Ir of the N1 run) /
(N2 - N1): start-up, the readiness OPTIONS and shut-down cancel out.
Instruction counts do not depend on the machine's load, so two builds can
be compared on a shared machine where the clock cannot.

Configurations (--config, repeatable; default all):
  plain     the proxy path alone
  cdr       set cdr on (a call record per call, to a file in the run dir)
  media     set media-relay always (loadgen's INVITE and 200 carry SDP)
  gateways  two External Gateways configured (no registration), calls
            that use neither

Finished transactions wait 64*T1 (32 s) after a call; the runs end before
that, so their freeing is not charged (to either build).

  tests/bench/bench_instr.py --sipd build/sipd/sipd [--base OTHER/sipd]
      [--calls 500,1500] [--rate 40] [--config plain ...] [--annotate N]

The figure moves a little with the rate (timer ticks, datagrams per
wake-up): compare runs made at the same rate.

With --base, each configuration runs for both binaries and the last
column gives the change.  --annotate N prints callgrind_annotate's top N
functions (exclusive) of the N2 run per binary and configuration; with
--base, the functions whose instructions per call grew most.
"""

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import under_valgrind
from bench_proxy import callgrind_ir

HOST = "127.0.0.1"
DOMAIN = "bench.invalid"
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
CONFIGS = ("plain", "cdr", "media", "gateways")


class Fail(Exception):
    pass


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((HOST, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def options_ping(port, timeout=0.5):
    """True when sipd answers an OPTIONS on its UDP port."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind((HOST, 0))
        me = s.getsockname()[1]
        tag = "%x" % int(time.monotonic() * 1e6)
        req = ("OPTIONS sip:ping@%s:%d SIP/2.0\r\n"
               "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bKinstr%s\r\n"
               "Max-Forwards: 70\r\n"
               "From: <sip:bench@%s>;tag=%s\r\n"
               "To: <sip:ping@%s>\r\n"
               "Call-ID: ping-%s@bench\r\n"
               "CSeq: 1 OPTIONS\r\n"
               "Content-Length: 0\r\n\r\n" %
               (HOST, port, HOST, me, tag, HOST, tag, HOST, tag)).encode()
        s.settimeout(timeout)
        s.sendto(req, (HOST, port))
        return s.recv(65535).startswith(b"SIP/2.0")
    except OSError:
        return False
    finally:
        s.close()


def conf_text(config, rundir, port, uas_port):
    lines = ["listener add udp %s:%d" % (HOST, port),
             "route add %s %s:%d" % (DOMAIN, HOST, uas_port),
             "set force-rr on",
             "set processors 1",
             "log level all none"]
    if config == "cdr":
        lines += ["set cdr on",
                  "set cdr-file %s" % os.path.join(rundir, "cdr.csv")]
    elif config == "media":
        lines += ["set media-relay always"]
    elif config == "gateways":
        # Addresses no call of the run comes from or goes to.
        lines += ["gateway add gw1 domain gw1.invalid via 127.0.0.2:5060",
                  "gateway add gw2 domain gw2.invalid via 127.0.0.3:5060"]
    return "\n".join(lines) + "\n"


def one_run(args, sipd, config, calls, rundir):
    """One sipd under callgrind, `calls` calls; returns its out file."""
    os.makedirs(rundir, exist_ok=True)
    port, uas_port, uac_port = free_port(), free_port(), free_port()
    conf = os.path.join(rundir, "sipd.conf")
    with open(conf, "w") as f:
        f.write(conf_text(config, rundir, port, uas_port))
        f.write("".join(l + "\n" for l in under_valgrind.conf_lines(sipd)))
    out = os.path.join(rundir, "callgrind.out")
    argv = ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out,
            sipd, "-f", "-c", conf, "-s", os.path.join(rundir, "sipd.sock")]
    log = open(os.path.join(rundir, "sipd.log"), "w")
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while not options_ping(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise Fail("sipd did not start (%s)" % rundir)
            time.sleep(0.2)
        lg = [args.loadgen, "-t", "udp", "-r", str(args.rate),
              "-n", str(calls), "-T", str(int(calls / args.rate + 30)),
              "-i", HOST, "-s", str(port), "-p", str(uac_port),
              "-u", str(uas_port)]
        res = subprocess.run(lg, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True,
                             timeout=calls / args.rate + 60)
        counts = dict(kv.split("=", 1) for kv in res.stdout.split()
                      if "=" in kv)
        if res.returncode != 0 or counts.get("ok") != str(calls):
            raise Fail("loadgen: %s" % res.stdout.strip())
        if counts.get("retrans", "0") != "0":
            print("    note: %s retransmissions (sipd too slow under "
                  "valgrind: lower --rate)" % counts["retrans"],
                  file=sys.stderr)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
    if not os.path.exists(out):
        raise Fail("no callgrind output in %s" % rundir)
    return out


def annotate(path):
    """{file:function: Ir} from callgrind_annotate's exclusive listing."""
    res = subprocess.run(["callgrind_annotate", "--auto=no",
                          "--threshold=100", path],
                         stdout=subprocess.PIPE, text=True)
    fns = {}
    for line in res.stdout.splitlines():
        m = re.match(r"\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+([^=\s]\S*)",
                     line)
        if m and ":" in m.group(2):
            # the same function in two trees: file name and function only
            name = os.path.basename(m.group(2))
            fns[name] = fns.get(name, 0) + int(m.group(1).replace(",", ""))
    return fns


def per_call(args, sipd, config, tag):
    n1, n2 = args.calls
    outs = []
    for n in (n1, n2):
        rundir = os.path.join(args.workdir, "%s-%s-%d" % (tag, config, n))
        outs.append(one_run(args, sipd, config, n, rundir))
    irs = [callgrind_ir(o) for o in outs]
    per = (irs[1] - irs[0]) / (n2 - n1)
    fns = None
    if args.annotate:
        a1, a2 = annotate(outs[0]), annotate(outs[1])
        fns = {k: (a2.get(k, 0) - a1.get(k, 0)) / (n2 - n1)
               for k in set(a1) | set(a2)}
    return per, irs, fns


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sipd", default=os.path.join(REPO, "build", "sipd",
                                                   "sipd"))
    ap.add_argument("--base", help="a second sipd to compare with")
    ap.add_argument("--calls", default="500,1500",
                    help="N1,N2 calls of the two runs (default 500,1500)")
    ap.add_argument("--rate", type=int, default=40,
                    help="calls per second (default 40: the media relay "
                    "under valgrind keeps up)")
    ap.add_argument("--config", action="append", choices=CONFIGS)
    ap.add_argument("--annotate", type=int, default=0, metavar="N")
    ap.add_argument("--workdir")
    ap.add_argument("--loadgen")
    args = ap.parse_args()
    args.calls = [int(x) for x in args.calls.split(",")]
    if len(args.calls) != 2 or args.calls[0] >= args.calls[1]:
        ap.error("--calls N1,N2 with N1 < N2")
    for tool in ("valgrind", "callgrind_annotate"):
        if shutil.which(tool) is None:
            sys.exit("bench_instr: %s missing (apt-get install valgrind)"
                     % tool)
    args.workdir = args.workdir or tempfile.mkdtemp(prefix="bench_instr-")
    os.makedirs(args.workdir, exist_ok=True)
    if not args.loadgen:
        args.loadgen = os.path.join(args.workdir, "loadgen")
        subprocess.run(["cc", "-O2", "-o", args.loadgen,
                        os.path.join(HERE, "loadgen.c")], check=True)
    builds = [("sipd", args.sipd)]
    if args.base:
        builds.insert(0, ("base", args.base))
    print("bench_instr: %s, %d and %d calls at %d/s; files in %s" %
          (", ".join("%s=%s" % b for b in builds), args.calls[0],
           args.calls[1], args.rate, args.workdir), flush=True)
    rows = []
    for config in args.config or CONFIGS:
        got = {}
        for tag, path in builds:
            try:
                got[tag] = per_call(args, path, config, tag)
            except Fail as e:
                print("  %-9s %-5s FAILED: %s" % (config, tag, e),
                      flush=True)
                continue
            per, irs, fns = got[tag]
            print("  %-9s %-5s %d Ir, %d Ir: %.0f instructions per call" %
                  (config, tag, irs[0], irs[1], per), flush=True)
            if fns and not args.base:
                for name, v in sorted(fns.items(), key=lambda kv: -kv[1])[
                        :args.annotate]:
                    print("      %9.0f  %s" % (v, name))
        if args.base and "base" in got and "sipd" in got:
            b, s = got["base"][0], got["sipd"][0]
            rows.append((config, b, s))
            if args.annotate:
                fb, fs = got["base"][2], got["sipd"][2]
                diff = {k: fs.get(k, 0) - fb.get(k, 0)
                        for k in set(fb) | set(fs)}
                print("    grew most (instructions per call, base -> sipd):")
                for name, v in sorted(diff.items(), key=lambda kv: -kv[1])[
                        :args.annotate]:
                    if v > 0:
                        print("      %+9.0f  %9.0f -> %9.0f  %s" %
                              (v, fb.get(name, 0), fs.get(name, 0), name))
        elif "sipd" in got:
            rows.append((config, None, got["sipd"][0]))
    print()
    for config, b, s in rows:
        if b is None:
            print("instructions per call %s: %.0f" % (config, s))
        else:
            print("instructions per call %s: %.0f (base %.0f, %+.1f%%)" %
                  (config, s, b, 100 * (s - b) / b))


if __name__ == "__main__":
    main()

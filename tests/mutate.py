#!/usr/bin/python3
"""The mutation check: can the tests fail?

Copies the source tree (the files git tracks, as they are in the working
tree) to a temporary directory, builds it once, and then for each
mutation below changes one line of sipd, rebuilds, runs the tests that
should notice and puts the line back.  A mutation that no test notices
is a hole in the suite.  Not part of ctest: it takes a quarter of an
hour on two cores.

    tests/mutate.py [-k] [-j N] [NAME ...]

NAME: run only those mutations (default: all); -k: keep the copy;
-j: ctest's -j (default 2).  Exits 1 when a mutation survived (or did
not apply or build), 0 when every one was caught.
"""

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

# (name, what the defect is, file, the line as it is, the line mutated,
#  the ctest regex of the tests that should fail)
MUTATIONS = [
    ("rr-dropped", "Record-Route never added",
     "sipd/core/rroute.c",
     "\tfor (int i = 0; i < nsides; i++) {",
     "\tfor (int i = 0; i < 0; i++) {",
     r"integration/proxy/(call-udp|call-udp-tcp|call-tcp-udp|lost-200)$"),
    ("best-6xx", "a 6xx does not win over other classes",
     "sipd/core/proxy.c",
     "\treturn status >= 600 ? 0 : status / 100;",
     "\treturn status / 100;",
     r"integration/proxy/branches$"),
    ("503-passed", "a best 503 goes upstream as 503, not 500",
     "sipd/core/proxy.c",
     "\tif (msg_status(p->best) == 503) {",
     "\tif (msg_status(p->best) == 0) {",
     r"integration/proxy/branches$"),
    ("transport-error", "a transport error counts as 486, not 430 or 503",
     "sipd/core/proxy.c",
     "\t\tbranch_final(p, i, err == -ENOTCONN ? 430 : 503, NULL);",
     "\t\tbranch_final(p, i, 486, NULL);",
     r"integration/proxy/branches$"),
    ("late-cancel", "a branch ringing after the CANCEL is not cancelled",
     "sipd/core/proxy.c",
     "\tif (status < 200 && p->br[i].cancel_pending) {",
     "\tif (0 && p->br[i].cancel_pending) {",
     r"integration/proxy/branches$"),
    ("cancel-dropped", "CANCEL answered but not forwarded",
     "sipd/core/proxy.c",
     "\t\tcancel_others(ip, -1);",
     "\t\t(void)cancel_others;",
     r"integration/proxy/(cancel|branches)$"),
    ("mf-kept", "Max-Forwards not decremented",
     "sipd/core/proxy.c",
     "\treturn msg_hdr_replace(fwd, i, (struct sv){ num, "
     "sv_utoa(mf - 1, num) });",
     "\treturn msg_hdr_replace(fwd, i, (struct sv){ num, "
     "sv_utoa(mf, num) });",
     r"integration/proxy/(max-forwards|call-udp)$"),
    ("options-483", "an OPTIONS with Max-Forwards 0 refused 483, not "
     "answered",
     "sipd/core/core.c",
     "\t\tif (method == MSG_OPTIONS) {",
     "\t\tif (0) {",
     r"integration/proxy/max-forwards$"),
    ("strict-router", "a strict router's Route not made the Request-URI",
     "sipd/core/rroute.c",
     "\tif (n > 0 && ruri_own) {",
     "\tif (0 && ruri_own) {",
     r"integration/proxy/routing$"),
    ("route-kept", "sipd's own Route entry not removed",
     "sipd/core/rroute.c",
     "\twhile (strip < n &&\n"
     "\t    route_uri_local(c, msg_buf(req), &routes[strip].uri)) {",
     "\twhile (0 &&\n"
     "\t    route_uri_local(c, msg_buf(req), &routes[strip].uri)) {",
     r"integration/proxy/(call-udp|call-udp-tcp|ack-2xx)$"),
    ("420-missing", "Proxy-Require not refused with 420",
     "sipd/core/proxy.c",
     "\t    core_refuse_extensions(c, req, src, HDR_PROXY_REQUIRE)) {",
     "\t    0 && core_refuse_extensions(c, req, src, "
     "HDR_PROXY_REQUIRE)) {",
     r"integration/(basic/require|proxy/routing)$"),
    ("relay-inverted", "the relay policy inverted for client sources",
     "sipd/core/policy.c",
     "\tif (in->src_client) {\n\t\t*why = \"sender is a client-ip\";",
     "\tif (!in->src_client) {\n\t\t*why = \"sender is a client-ip\";",
     r"integration/reg/relay-policy$"),
    ("received-missing", "received/rport not added to the top Via",
     "sipd/core/core.c",
     "\trc = msg_via_set_received(req, (struct sv){ host, strlen(host) },",
     "\trc = 0; if (0) msg_via_set_received(req, (struct sv){ host, "
     "strlen(host) },",
     r"integration/basic/(options|ipv6|response)$"),
    ("sips-udp", "a sips: target sent over UDP",
     "sipd/core/route.c",
     "\tl->proto = l->sips ? TP_TLS : TP_UDP;",
     "\tl->proto = TP_UDP;",
     r"integration/proxy/routing$"),
    ("size-ignored", "a large request not switched to TCP",
     "sipd/transport/tp.c",
     "\treturn limit > 0 && len > limit ? TP_TCP : TP_UDP;",
     "\treturn TP_UDP;",
     r"integration/proxy/routing$"),
    ("sent-not-logged", "the bytes sent are not the bytes logged "
     "(the last two dropped)",
     "sipd/transport/udp.c",
     "\tn = sendto(l->fd, bytes, len, MSG_DONTWAIT | MSG_NOSIGNAL, dest, "
     "dlen);",
     "\tn = sendto(l->fd, bytes, len - 2, MSG_DONTWAIT | MSG_NOSIGNAL, "
     "dest, dlen);",
     r"integration/proxy/(call-udp|max-forwards|loop)$"),
    ("timer-b", "set timer-b ignored (64*T1 instead)",
     "sipd/txn/client.c",
     "\t\ttxn_arm(x, &x->end, t->set.timer_b_ms);",
     "\t\ttxn_arm(x, &x->end, 64 * t->set.t1_ms);",
     r"integration/proxy/timer-b$"),
    ("timer-c", "set timer-c ignored (the default 180 s)",
     "sipd/txn/client.c",
     "\tuint64_t due = from + x->tbl->set.timer_c_ms;",
     "\tuint64_t due = from + 180000;",
     r"integration/proxy/timer-c$"),
    ("timer-c-restart", "a 180 does not restart Timer C",
     "sipd/txn/client.c",
     "\t\t\t} else if (status > 100 && !x->c_fired) {",
     "\t\t\t} else if (0 && status > 100 && !x->c_fired) {",
     r"integration/proxy/timer-c$"),
    ("sha256-order", "the challenge order of auth-sha256-first flipped",
     "sipd/auth/auth.c",
     "\tconst enum auth_alg *order = a->set.sha256_first ? sha_first",
     "\tconst enum auth_alg *order = !a->set.sha256_first ? sha_first",
     r"integration/reg/register-digest$"),
    ("fail2ban-line", "the auth failure line changed (from= for src=)",
     "sipd/auth/auth.c",
     "\tlog_notice(LOG_SERVER, \"auth, failed user='%s' src=%s "
     "realm='%s' (%s)\",",
     "\tlog_notice(LOG_SERVER, \"auth, failed user='%s' from=%s "
     "realm='%s' (%s)\",",
     r"integration/basic/logging$"),
    ("log-unfiltered", "log levels do not filter",
     "sipd/log.c",
     "\t    log_state.level[comp] >= level;",
     "\t    1;",
     r"integration/basic/logging$"),
    ("no-bak", "the previous configuration not kept as .bak",
     "sipd/confsave.c",
     "\tif (link(path, bak) < 0 && errno != ENOENT) {",
     "\tif (0) {",
     r"integration/ctl/(writeback|accounts)$"),
    ("no-grace", "SIGTERM does not let running transactions finish",
     "sipd/main.c",
     "\tlive = workers_drain(s->ws);",
     "\tlive = 0; (void)workers_drain(s->ws);",
     r"integration/(basic/signals|service/stop-drain)$"),
    ("no-fsync", "the configuration written back without fsync",
     "sipd/confsave.c",
     "\tif (fflush(f) != 0 || fsync(fileno(f)) < 0) {",
     "\tif (fflush(f) != 0) {",
     r"integration/ctl/writeback$"),
]


def sh(cmd, cwd, log, timeout):
    with open(log, "a") as out:
        out.write("\n$ %s\n" % " ".join(cmd))
        out.flush()
        try:
            return subprocess.run(cmd, cwd=cwd, stdout=out,
                                  stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL,
                                  timeout=timeout).returncode
        except subprocess.TimeoutExpired:
            return -1


def copy_tree(src, dst):
    files = subprocess.run(["git", "-C", src, "ls-files", "-z"],
                           stdout=subprocess.PIPE, check=True).stdout
    for rel in files.decode().split("\0"):
        if not rel or not os.path.exists(os.path.join(src, rel)):
            continue
        os.makedirs(os.path.dirname(os.path.join(dst, rel)), exist_ok=True)
        shutil.copy2(os.path.join(src, rel), os.path.join(dst, rel))


def failed_tests(out):
    return re.findall(r"^\s*\d+ - (\S+) \((?:Failed|Timeout|"
                      r"Subprocess aborted|SEGFAULT|Not Run)\)", out,
                      re.MULTILINE)


def ctest(build, regex, jobs, log):
    p = subprocess.run(["ctest", "--test-dir", build, "-R", regex, "-j",
                        str(jobs), "--timeout", "150",
                        "--output-on-failure"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       stdin=subprocess.DEVNULL, text=True, timeout=1800)
    with open(log, "a") as f:
        f.write(p.stdout)
    ran = re.findall(r"Test\s+#\d+: (\S+) \.", p.stdout)
    return ran, failed_tests(p.stdout)


def main():
    # SIGTERM as Ctrl-C: the mutated file is put back on the way out
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    ap = argparse.ArgumentParser(description="the mutation check")
    ap.add_argument("-k", action="store_true", help="keep the copy")
    ap.add_argument("-j", type=int, default=2, help="ctest -j")
    ap.add_argument("names", nargs="*")
    args = ap.parse_args()
    todo = [m for m in MUTATIONS if not args.names or m[0] in args.names]
    if not todo:
        sys.exit("mutate: no mutation named %s" % " ".join(args.names))
    src = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    work = tempfile.mkdtemp(prefix="sipd-mutate-")
    tree, build = os.path.join(work, "src"), os.path.join(work, "build")
    log = os.path.join(work, "log")
    print("mutate: copy in %s, log in %s" % (work, log), flush=True)
    copy_tree(src, tree)
    if sh(["cmake", "-S", tree, "-B", build], work, log, 600) or \
            sh(["cmake", "--build", build, "-j2"], work, log, 3600):
        sys.exit("mutate: the unmutated copy does not build (see %s)" % log)
    # the tests each mutation should fail must pass unmutated
    ran, base_failed = set(), set()
    for regex in sorted(set(m[5] for m in todo)):
        r, f = ctest(build, regex, args.j, log)
        ran.update(r)
        base_failed.update(f)
    print("unmutated: %d tests ran, failing: %s" % (
        len(ran), " ".join(sorted(base_failed)) or "none"), flush=True)
    results = []
    for name, what, rel, old, new, tests in todo:
        path = os.path.join(tree, rel)
        with open(path) as f:
            orig = f.read()
        t0 = time.monotonic()
        if orig.count(old) != 1:
            results.append((name, what, "NOT APPLIED (the line is not "
                            "there once: %d)" % orig.count(old), []))
            print("%-16s not applied" % name, flush=True)
            continue
        with open(path, "w") as f:
            f.write(orig.replace(old, new))
        try:
            if sh(["cmake", "--build", build, "-j2"], work, log, 3600):
                results.append((name, what, "DID NOT BUILD", []))
                continue
            ran, failed = ctest(build, tests, args.j, log)
            caught = [t for t in failed if t not in base_failed]
            verdict = "caught" if caught else (
                "SURVIVED" if ran else "NO TEST RAN")
            results.append((name, what, verdict, caught))
        finally:
            with open(path, "w") as f:
                f.write(orig)
            # the same mtime as before would leave the object stale
            os.utime(path)
        print("%-16s %-8s %5.0f s  %s" % (name, results[-1][2],
                                         time.monotonic() - t0,
                                         " ".join(results[-1][3])),
              flush=True)
    sh(["cmake", "--build", build, "-j2"], work, log, 3600)
    print("\n%-16s %-8s %s" % ("mutation", "verdict", "failing tests"))
    for name, what, verdict, caught in results:
        print("%-16s %-8s %s\n%16s   (%s)" % (name, verdict.split()[0],
                                             " ".join(caught) or "-", "",
                                             what))
    bad = [r for r in results if r[2] != "caught"]
    print("\n%d of %d mutations caught" % (len(results) - len(bad),
                                           len(results)))
    if not args.k:
        shutil.rmtree(work, ignore_errors=True)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()

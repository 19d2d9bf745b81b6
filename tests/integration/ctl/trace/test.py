"""trace shows the SIP messages sipd receives and sends, live.  While
five "sipctl trace" streams run (the ladder, -r, -j, "pcap FILE",
"callid X" and "method BYE"), a sipp call goes through sipd over UDP
(sipp UAC -> sipd -> sipp UAS) and two OPTIONS with known Call-IDs
follow.  Checked:
- -j: one event per message sipp sent or received, each direction and
  address right, the call's messages in the order sipp saw them;
- the ladder: an arrow per message in the same order, labelled with the
  method or status, between the columns of the right peers;
- -r: each message's bytes exactly;
- the pcapng: tshark -Y sip decodes exactly the messages of the trace,
  with the real addresses and ports;
- "callid X": only the OPTIONS of Call-ID X and its 200 (not the call,
  not the other OPTIONS); "method BYE": the two BYEs and their two 200s.
Without the trace command sipctl refuses "trace" (exit 2).  tshark and
sipp missing: a skip (a failure under CI=true)."""

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

import sipdtest
import sipua
from sipdtest import Peer, Skip, check, request, sipctl


def start_trace(sipd, *args):
    return subprocess.Popen([sipdtest.sipctl_binary(), "-s", sipd.sock_path]
                            + list(args), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL)


def wait_tracers(sipd, n):
    for _ in range(50):
        p = sipctl(sipd, "-j", "status")
        if p.returncode == 0 and \
                json.loads(p.stdout)["data"].get("tracers") == n:
            return
        time.sleep(0.1)
    raise sipdtest.Fail("%d tracers did not start" % n)


def stop_trace(proc):
    """SIGINT ends the stream: sipctl exits 0; its stdout and stderr."""
    time.sleep(0.3)  # the last events on their way
    proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=5)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    check(proc.returncode == 0, "trace exit %d: %r" % (proc.returncode, err))
    return out, err


def label(data):
    first = data.split(b"\r\n", 1)[0].decode()
    if first.startswith("SIP/2.0 "):
        return first[8:]
    return first.split(" ", 1)[0]


def test(binary, started):
    sipua.sipp_binary()
    tshark = shutil.which("tshark")
    if tshark is None:
        raise Skip("tshark not installed")
    with tempfile.TemporaryDirectory(prefix="sipdtest-") as workdir:
        call = sipua.SippCall(binary, started, workdir, "u1", "u1",
                              calls=1)
        sipd = call.sipd
        pcap = os.path.join(workdir, "trace.pcapng")
        procs = {
            "ladder": start_trace(sipd, "trace"),
            "raw": start_trace(sipd, "-r", "trace"),
            "json": start_trace(sipd, "-j", "trace"),
            "pcap": start_trace(sipd, "trace", "pcap", pcap),
            "callid": start_trace(sipd, "-j", "trace", "callid",
                                  "trace-keep@test"),
            "bye": start_trace(sipd, "-j", "trace", "method", "BYE"),
        }
        try:
            wait_tracers(sipd, len(procs))
            call.run()
            peer = Peer()
            try:
                for cid in ("trace-keep@test", "trace-other@test"):
                    r = peer.ask(request("OPTIONS", sipd.port, call_id=cid),
                                 sipd.port)
                    check(r is not None, "no answer to OPTIONS")
            finally:
                peer.close()
            out = {k: stop_trace(p) for k, p in procs.items()}
        finally:
            for p in procs.values():
                if p.poll() is None:
                    p.kill()
                    p.wait()

        # -j: the events, one JSON object per line
        events = [json.loads(line) for line in out["json"][0].splitlines()]
        msgs = [e["data"] for e in events if e.get("ev") == "msg"]
        check(len(msgs) >= 1, "no msg events: %r" % out["json"][0][:500])
        callmsgs = [m for m in msgs
                    if "trace-" not in m["data"]]
        # every message a sipp sent or received, through sipd: sipd
        # received what a sipp sent and sent what a sipp received
        want = []
        for trace, port in ((call.uac_trace, call.uac_port),
                            (call.uas_trace, call.uas_port)):
            for way, m in trace:
                want.append(("in" if way == "sent" else "out", port,
                             label(m.raw)))
        got = [(m["dir"], m["remote-port"], label(m["data"].encode()))
               for m in callmsgs]
        check(sorted(got) == sorted(want),
              "trace %r\nsipp %r" % (got, want))
        # in the order each sipp saw them
        for port in (call.uac_port, call.uas_port):
            mine = [g for g in got if g[1] == port]
            theirs = [w for w in want if w[1] == port]
            check(mine == theirs, "order at %d: %r vs %r" % (port, mine,
                                                           theirs))
        for m in msgs:
            check(m["transport"] == "udp" and m["local"] == "127.0.0.1"
                  and m["local-port"] == sipd.port, "addresses %r" % m)
        labels = [label(m["data"].encode()) for m in msgs]
        check(labels[0] == "INVITE" and "ACK" in labels and
              "BYE" in labels, "call labels %r" % labels)

        # the ladder: one arrow per message, the same labels, in order
        ladder = out["ladder"][0].decode()
        rows = [r for r in ladder.splitlines() if "--" in r]
        check(len(rows) == len(msgs), "ladder rows %d, messages %d:\n%s" % (
            len(rows), len(msgs), ladder))
        for port in (call.uac_port, call.uas_port, sipd.port):
            check(":%d" % port in ladder, "no column for %d:\n%s" % (
                port, ladder))
        for row, m in zip(rows, msgs):
            lab = label(m["data"].encode())
            check(lab[:15] in row, "row %r is not %r" % (row, lab))
            check(">" in row or "<" in row, "no arrow head in %r" % row)
        # each arrow from the sender's column to the receiver's: columns
        # of 24 characters after the time, in order of appearance
        cols = []
        for row, m in zip(rows, msgs):
            here = "%s:%d" % (m["local"], m["local-port"])
            there = "%s:%d" % (m["remote"], m["remote-port"])
            src, dst = (there, here) if m["dir"] == "in" else (here, there)
            for ep in (src, dst):
                if ep not in cols:
                    cols.append(ep)
            a, b = sorted((cols.index(src), cols.index(dst)))
            start, end = 16 + a * 24 + 3, 16 + b * 24 + 1
            head = end if cols.index(src) < cols.index(dst) else start
            check(row[head] == (">" if head == end else "<") and
                  row[start - 1] == "|" and row[end + 1] == "|",
                  "row %r: not an arrow %s -> %s" % (row, src, dst))

        # -r: the bytes exactly
        raw = out["raw"][0]
        for m in msgs:
            check(m["data"].encode() in raw, "raw lacks %r" %
                  m["data"][:80])

        # the pcapng, as tshark decodes it
        p = subprocess.run([tshark, "-r", pcap, "-Y", "sip", "-T",
                            "fields", "-e", "ip.src", "-e", "udp.srcport",
                            "-e", "ip.dst", "-e", "udp.dstport",
                            "-e", "sip.Call-ID"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=60)
        check(p.returncode == 0, "tshark: %s" % p.stderr)
        frames = [line.split("\t") for line in p.stdout.splitlines()]
        check(len(frames) == len(msgs), "tshark decodes %d SIP frames, "
              "the trace has %d:\n%s" % (len(frames), len(msgs), p.stdout))
        for f, m in zip(frames, msgs):
            if m["dir"] == "in":
                want_f = [m["remote"], str(m["remote-port"]), m["local"],
                          str(m["local-port"])]
            else:
                want_f = [m["local"], str(m["local-port"]), m["remote"],
                          str(m["remote-port"])]
            check(f[:4] == want_f, "frame %r, message %r" % (f, want_f))

        # the filters
        ev = [json.loads(line) for line in out["callid"][0].splitlines()]
        kept = [e["data"]["data"] for e in ev if e.get("ev") == "msg"]
        check(len(kept) == 2 and all("trace-keep@test" in k for k in kept)
              and label(kept[0].encode()) == "OPTIONS" and
              label(kept[1].encode()).startswith("200"),
              "callid filter kept %r" % [k[:60] for k in kept])
        ev = [json.loads(line) for line in out["bye"][0].splitlines()]
        kept = [label(e["data"]["data"].encode()) for e in ev
                if e.get("ev") == "msg"]
        check(sorted(kept) == ["200 OK", "200 OK", "BYE", "BYE"],
              "method filter kept %r" % kept)

        wait_tracers(sipd, 0)
        sipdtest.stop_clean(sipd)


sipdtest.run(test)

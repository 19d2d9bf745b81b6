"""The call record cases' common part: sipd with "set cdr on" and its CSV
file in the test's directory, a sipp UAC on 127.0.0.1 calling a sipp UAS
on 127.0.0.2 through sipd (the UAC addresses the UAS in its Request-URI
and sends everything to sipd), the scenarios of each way a call ends, and
the check of a record field by field against what the sipps sent and
received (-trace_msg), never against sipd's log.

Imported by tests/integration/cdr/<case>/test.py (which put this folder
on sys.path).  Every wait is bounded in time and in count.
"""

import csv
import datetime
import json
import os
import time

import sipua
from sipdtest import Fail, check, sipctl
from sipua import Sipp, free_port, sipp_trace, wait_bound

FIELDS = ["call_id", "from", "to", "request_uri", "source", "user",
          "gateway", "invite_time", "answer_time", "end_time", "duration",
          "status", "hangup"]

HEAD = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="%s">
"""

# The UAC's INVITE, its branch fixed so that a CANCEL and the ACK of a
# non-2xx can repeat it (RFC 3261 9.1, 17.1.1.3).
INVITE = """<send retrans="500"><![CDATA[
INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=z9hG4bK[pid]i[call_number]
From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: [service] <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:sipp@[local_ip]:[local_port];transport=[transport]>
Max-Forwards: 70
Content-Length: 0

]]></send>
<recv response="100" optional="true"/>
"""

# The 200's ACK, by the route set of the 200 (RFC 3261 12.1.2).
ACK_2XX = """<send><![CDATA[
ACK [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
[routes]
From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0

]]></send>
"""

# The ACK of a final response >= 300: the INVITE's branch (17.1.1.3).
ACK_ERR = """<send><![CDATA[
ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=z9hG4bK[pid]i[call_number]
From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0

]]></send>
"""

UAC_BYE = """<send retrans="500"><![CDATA[
BYE [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
[routes]
From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 2 BYE
Max-Forwards: 70
Content-Length: 0

]]></send>
<recv response="200" crlf="true"/>
"""

# A 200 to the request just received (a BYE).
OK_LAST = """<send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>
"""

UAS_INVITE = """<recv request="INVITE" rrs="true">
<action>
<ereg regexp=".*" search_in="hdr" header="Via:" occurrence="1" assign_to="via1"/>
<ereg regexp=".*" search_in="hdr" header="Via:" occurrence="2" assign_to="via2"/>
<ereg regexp=".*" search_in="hdr" header="From:" assign_to="caller"/>
<ereg regexp=".*" search_in="hdr" header="To:" assign_to="callee"/>
</action>
</recv>
"""


def uas_reply(status, reason, contact=False, rr=True):
    """The UAS's response to the INVITE (its two Vias kept from it; rr:
    the INVITE is the last message received, its Record-Route copied)."""
    return """<send><![CDATA[
SIP/2.0 %d %s
Via: [$via1]
Via: [$via2]
%sFrom: [$caller]
To: [$callee];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
%s
%sContent-Length: 0

]]></send>
""" % (status, reason, "[last_Record-Route:]\n" if rr else "",
       "[last_CSeq:]" if rr else "CSeq: 1 INVITE",
       "Contact: <sip:[local_ip]:[local_port];"
       "transport=[transport]>\n" if contact else "")


UAS_ANSWER = uas_reply(180, "Ringing") + uas_reply(200, "OK", True).replace(
    "<send>", '<send retrans="500">') + '<recv request="ACK" crlf="true"/>\n'

# The callee's BYE: to the caller's Contact by the Record-Route set, in
# order (RFC 3261 12.1.1), From and To the other way round.
UAS_BYE = """<send retrans="500"><![CDATA[
BYE [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
[routes]
From: [$callee];tag=[pid]SIPpTag01[call_number]
To: [$caller]
[last_Call-ID:]
CSeq: 1 BYE
Max-Forwards: 70
Content-Length: 0

]]></send>
<recv response="200" crlf="true"/>
"""


def scenario(name, body):
    return HEAD % name + body + "</scenario>\n"


# Each way a call ends: (UAC scenario, UAS scenario).
CALLER_BYE = (
    scenario("uac", INVITE + '<recv response="180" optional="true"/>\n'
             '<recv response="200" rrs="true"/>\n' + ACK_2XX +
             '<pause milliseconds="300"/>\n' + UAC_BYE),
    scenario("uas", UAS_INVITE + UAS_ANSWER + '<recv request="BYE"/>\n' +
             OK_LAST))
CALLEE_BYE = (
    scenario("uac", INVITE + '<recv response="180" optional="true"/>\n'
             '<recv response="200" rrs="true"/>\n' + ACK_2XX +
             '<recv request="BYE"/>\n' + OK_LAST),
    scenario("uas", UAS_INVITE + UAS_ANSWER +
             '<pause milliseconds="300"/>\n' + UAS_BYE))
CANCELLED = (
    scenario("uac", INVITE + '<recv response="180"/>\n'
             '<pause milliseconds="200"/>\n' + """<send><![CDATA[
CANCEL sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=z9hG4bK[pid]i[call_number]
From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: [service] <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 CANCEL
Max-Forwards: 70
Content-Length: 0

]]></send>
<recv response="200"/>
<recv response="487"/>
""" + ACK_ERR),
    scenario("uas", UAS_INVITE + uas_reply(180, "Ringing") +
             '<recv request="CANCEL"/>\n' + OK_LAST +
             uas_reply(487, "Request Terminated", rr=False) +
             '<recv request="ACK"/>\n'))
BUSY = (
    scenario("uac", INVITE + '<recv response="486"/>\n' + ACK_ERR),
    scenario("uas", UAS_INVITE + uas_reply(486, "Busy Here") +
             '<recv request="ACK"/>\n'))
# the caller is alice@example.com: challenged (407), it sends the INVITE
# again with her credentials, and hangs up after the answer
AUTH_INVITE = INVITE.replace(
    "From: sipp <sip:sipp@[local_ip]:[local_port]>",
    "From: alice <sip:alice@example.com>")
AUTHENTICATED = (
    scenario("uac", AUTH_INVITE +
             '<recv response="407" auth="true"/>\n' +
             ACK_ERR.replace("From: sipp <sip:sipp@[local_ip]:[local_port]>",
                             "From: alice <sip:alice@example.com>") +
             AUTH_INVITE.replace("CSeq: 1 INVITE", "CSeq: 2 INVITE")
             .replace("i[call_number]", "j[call_number]")
             .replace("Max-Forwards: 70\n",
                      "Max-Forwards: 70\n[authentication username=alice "
                      "password=secret]\n") +
             '<recv response="180" optional="true"/>\n'
             '<recv response="200" rrs="true"/>\n' +
             ACK_2XX.replace("CSeq: 1 ACK", "CSeq: 2 ACK").replace(
                 "From: sipp <sip:sipp@[local_ip]:[local_port]>",
                 "From: alice <sip:alice@example.com>") +
             UAC_BYE.replace("CSeq: 2 BYE", "CSeq: 3 BYE").replace(
                 "From: sipp <sip:sipp@[local_ip]:[local_port]>",
                 "From: alice <sip:alice@example.com>")),
    CALLER_BYE[1])

# answered, up for a while, hung up by the caller
LONG_CALL = (CALLER_BYE[0].replace('<pause milliseconds="300"/>',
                                   '<pause milliseconds="1500"/>'),
             CALLER_BYE[1])

# answered, then both sides go quiet: the BYE never comes
NO_BYE = (
    scenario("uac", INVITE + '<recv response="180" optional="true"/>\n'
             '<recv response="200" rrs="true"/>\n' + ACK_2XX),
    scenario("uas", UAS_INVITE + UAS_ANSWER))


class CdrCall:
    """sipd with call records on (conf: further lines; clients: whether
    the loopback is a client-ip; uas: the UAS's sipp -t, "t1" for TCP,
    routed there by a rule), and sipp calls through it; workdir holds the CSV file (csv_path), the scenarios and
    sipp's traces."""

    def __init__(self, binary, started, workdir, conf=(), clients=True,
                 uas="u1"):
        sipua.sipp_binary()
        self.workdir = workdir
        self.csv_path = os.path.join(workdir, "cdr.csv")
        self.uas_port = free_port("127.0.0.2")
        self.uac_port = free_port("127.0.0.1")
        self.uas = uas
        lines = ["set cdr on", "set cdr-file %s" % self.csv_path]
        if uas == "t1":
            lines.append("route add 127.0.0.2 127.0.0.2:%d transport tcp" %
                         self.uas_port)
        lines += list(conf)
        self.sipd = sipua.ProxySipd(binary, conf=lambda s: "\n".join(lines),
                                    tcp=uas == "t1")
        # clients=False: the loopback is not a client-ip (the relay
        # policy asks for credentials)
        self.sipd.clients = clients
        started.append(self.sipd)
        self.sipd.start()
        self.uac_trace, self.uas_trace = [], []

    def start(self, pair, calls=1, uac_args=()):
        """Start the UAS and the UAC of pair (their scenarios; uac_args:
        more of the UAC's options); returns (uac, uas), the Sipp
        processes."""
        for name, text in zip(("uac", "uas"), pair):
            with open(os.path.join(self.workdir, name + ".xml"), "w") as f:
                f.write(text)
        uas = self.sipp("uas", ["-i", "127.0.0.2", "-p", str(self.uas_port),
                                "-t", self.uas, "-m", str(calls),
                                "-timeout", "20s"])
        check(wait_bound(self.uas_port, "127.0.0.2",
                         "TCP" if self.uas == "t1" else "UDP"),
              "sipp uas did not start:\n" + uas.output())
        uac = self.sipp("uac", [
            "127.0.0.2:%d" % self.uas_port, "-s", "bob",
            "-rsa", "127.0.0.1:%d" % self.sipd.port,
            "-i", "127.0.0.1", "-p", str(self.uac_port),
            "-m", str(calls), "-r", "10", "-timeout", "20s"] +
            list(uac_args))
        return uac, uas

    def finish(self, uac, uas):
        """Wait for both sipps (bounded), read their traces, check that
        each ran its scenario to the end."""
        try:
            rc_uac = uac.wait(30)
            rc_uas = uas.wait(30)
        finally:
            uac.kill()
            uas.kill()
        self.uac_trace = sipp_trace(os.path.join(self.workdir, "uac.msg"))
        self.uas_trace = sipp_trace(os.path.join(self.workdir, "uas.msg"))
        check(rc_uac == 0, "sipp uac exited %d:\n%s" % (
            rc_uac, uac.output()[-3000:]))
        check(rc_uas == 0, "sipp uas exited %d:\n%s" % (
            rc_uas, uas.output()[-3000:]))

    def run(self, pair, calls=1, uac_args=()):
        uac, uas = self.start(pair, calls, uac_args)
        self.finish(uac, uas)
        return self

    def sipp(self, name, args):
        trace = os.path.join(self.workdir, name + ".msg")
        if os.path.exists(trace):
            os.unlink(trace)
        return Sipp(self.workdir, name, [
            "-sf", os.path.join(self.workdir, name + ".xml"),
            "-trace_msg", "-message_file", trace] + args)

    def sent(self, trace, start):
        return [m for w, m in trace
                if w == "sent" and m.start.startswith(start)]

    def received(self, trace, start):
        return [m for w, m in trace
                if w == "received" and m.start.startswith(start)]

    def records(self, path=None):
        """The CSV file's records (a list of dicts), its header checked."""
        path = path or self.csv_path
        if not os.path.exists(path):
            return []
        with open(path, newline="") as f:
            rows = list(csv.reader(f))
        check(rows and rows[0] == FIELDS, "%s: header %r" % (
            path, rows[:1]))
        for r in rows[1:]:
            check(len(r) == len(FIELDS), "a record of %d fields: %r" % (
                len(r), r))
        return [dict(zip(FIELDS, r)) for r in rows[1:]]

    def wait_records(self, n, timeout=5.0, path=None):
        """The records once there are n (bounded); fails otherwise."""
        deadline = time.monotonic() + timeout
        for _ in range(int(timeout / 0.05) + 1):
            recs = self.records(path)
            if len(recs) >= n or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        check(len(recs) == n, "%d records, not %d: %r" % (len(recs), n,
                                                         recs))
        return recs

    def ctl_json(self, *args):
        p = sipctl(self.sipd, "-j", *args)
        check(p.returncode == 0, "sipctl %s: %s" % (" ".join(args),
                                                    p.stderr))
        return json.loads(p.stdout)["data"]


def parse_time(text):
    """A record's time (ISO 8601, UTC, ms) as seconds since the epoch."""
    check(len(text) == 24 and text.endswith("Z"), "time %r" % text)
    t = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")
    return t.replace(tzinfo=datetime.timezone.utc).timestamp()


def check_record(call, rec, status, hangup, answered, t0, t1, invite=None,
                 user=""):
    """rec is the record of the call the UAC placed (its INVITE as sent,
    invite; default the first), field by field; t0, t1: the wall clock
    before and after the call."""
    if invite is None:
        invites = call.sent(call.uac_trace, "INVITE")
        check(invites, "the UAC sent no INVITE")
        invite = invites[0]
    want = {
        "call_id": invite.call_id(),
        "from": invite.first("From"),
        "to": invite.first("To"),
        "request_uri": invite.uri,
        "source": "udp:127.0.0.1:%d" % call.uac_port,
        "user": user,
        "gateway": "",
        "status": str(status),
        "hangup": hangup,
    }
    for k, v in want.items():
        check(rec[k] == v, "record field %s is %r, not %r (record %r)" % (
            k, rec[k], v, rec))
    inv = parse_time(rec["invite_time"])
    end = parse_time(rec["end_time"])
    check(t0 - 0.01 <= inv <= end <= t1 + 0.01,
          "times out of order or outside the call: %r (call %.3f-%.3f)" % (
              rec, t0, t1))
    if answered:
        ans = parse_time(rec["answer_time"])
        check(inv <= ans <= end, "answer time %r" % rec)
        dur = float(rec["duration"])
        check(abs(dur - (end - ans)) < 0.002, "duration %r is not end - "
              "answer (%.3f)" % (rec["duration"], end - ans))
    else:
        check(rec["answer_time"] == "" and rec["duration"] == "0.000",
              "an unanswered call with an answer: %r" % rec)
    return rec


def check_rr(call):
    """The UAS received the INVITE with sipd's Record-Route on top (with
    records on, sipd stays on every INVITE dialog's path)."""
    got = call.received(call.uas_trace, "INVITE")
    check(got, "the UAS received no INVITE")
    rr = got[0].get("Record-Route")
    check(rr and sipua.unsigned_rr(rr[0]) is not None and
          ("127.0.0.1:%d" % call.sipd.port) in rr[0],
          "the INVITE reached the UAS without sipd's Record-Route: %r" % rr)


def fail(msg):
    raise Fail(msg)

"""Reload without losing calls (sipd.8, "Reloading").

A sipp call goes through sipd (force-rr on, so that the BYE passes too):
the UAS rings for a while before it answers, and the UAC waits a while
before it hangs up.  While the INVITE is ringing, the file gains
"set t2 4500" and "sipctl reload" applies it: sipctl prints the command,
"show settings" has t2 4500.  While the call is up, the file gains a line
that does not read: "sipctl reload" fails (exit 1) with FILE:LINE:
message naming that line, t2 stays 4500 and a listener added on the line
before it was not opened.  Then a listener whose port another socket
holds: FILE:LINE of that listener, nothing changed.  SIGHUP with the
broken file logs the same FILE:LINE.  The call completes: both sipps
count one successful call, and the UAS received the BYE.  The old sipd
had no "reload" command (sipctl exits 2, "unknown command")."""

import json
import os
import signal
import socket
import tempfile
import time

import sipdtest
import sipua
from sipdtest import Peer, check, free_udp_port, request

UAC = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="uac">
<send retrans="500"><![CDATA[
INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: [service] <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:sipp@[local_ip]:[local_port];transport=[transport]>
Max-Forwards: 70
Content-Length: 0

]]></send>
<recv response="100" optional="true"/>
<recv response="180" optional="true"/>
<recv response="200" rrs="true"/>
<send><![CDATA[
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
<pause milliseconds="2500"/>
<send retrans="500"><![CDATA[
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
</scenario>
"""

UAS = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="uas">
<recv request="INVITE" crlf="true"/>
<send><![CDATA[
SIP/2.0 180 Ringing
[last_Via:]
[last_Record-Route:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:[local_ip]:[local_port];transport=[transport]>
Content-Length: 0

]]></send>
<pause milliseconds="2000"/>
<send retrans="500"><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_Record-Route:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:[local_ip]:[local_port];transport=[transport]>
Content-Length: 0

]]></send>
<recv request="ACK" crlf="true"/>
<recv request="BYE"/>
<send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>
</scenario>
"""


def setting(sipd, name):
    p = sipdtest.sipctl(sipd, "-j", "show", "settings")
    check(p.returncode == 0, "show settings failed: %s" % p.stderr)
    rows = json.loads(p.stdout)["data"]
    return {r["setting"]: r["value"] for r in rows}[name]


def answers(port, timeout=0.5):
    peer = Peer()
    try:
        r = peer.ask(request("OPTIONS", port), port, timeout=timeout)
        return r is not None and r.status == 200
    finally:
        peer.close()


def lines_of(path):
    with open(path) as f:
        return len(f.read().splitlines())


def test(binary, started):
    sipua.sipp_binary()
    sipdtest.sipctl_binary()
    with tempfile.TemporaryDirectory(prefix="sipdtest-") as work:
        sipd = sipua.start_proxy(binary, started,
                                 conf=lambda s: "set force-rr on")
        with open(sipd.conf_path) as f:
            original = f.read()
        for name, text in (("uac", UAC), ("uas", UAS)):
            with open(os.path.join(work, name + ".xml"), "w") as f:
                f.write(text)
        uas_port = sipua.free_port("127.0.0.2")
        uas = sipua.Sipp(work, "uas", [
            "-sf", os.path.join(work, "uas.xml"), "-i", "127.0.0.2",
            "-p", str(uas_port), "-t", "u1", "-m", "1", "-timeout", "20s"])
        check(sipua.wait_bound(uas_port, "127.0.0.2", "UDP"),
              "sipp uas did not start:\n" + uas.output())
        uac = sipua.Sipp(work, "uac", [
            "-sf", os.path.join(work, "uac.xml"),
            "127.0.0.2:%d" % uas_port, "-rsa", "127.0.0.1:%d" % sipd.port,
            "-i", "127.0.0.1", "-p", str(sipua.free_port()), "-t", "u1",
            "-m", "1", "-timeout", "20s"])
        try:
            # ringing: a changed setting, applied
            check(sipd.wait_log("SIP/2.0 180 Ringing", 5.0),
                  "the call does not ring")
            with open(sipd.conf_path, "w") as f:
                f.write(original + "set t2 4500\n")
            p = sipdtest.sipctl(sipd, "reload")
            print("reload (t2 4500): exit %d, %r %r" % (
                p.returncode, p.stdout, p.stderr))
            check(p.returncode == 0, "reload failed: %r" % p.stderr)
            check("set t2 4500" in p.stdout.splitlines(),
                  "reload did not print the change: %r" % p.stdout)
            check(setting(sipd, "t2") == 4500, "t2 not reloaded")

            # answered: a broken file changes nothing and says where
            check(sipd.wait_log("SIP/2.0 200 OK", 5.0), "no answer")
            extra = free_udp_port()
            with open(sipd.conf_path, "w") as f:
                f.write(original + "set t2 4000\n"
                        "listener add udp 127.0.0.1:%d\n"
                        "set t1 frog\n" % extra)
            bad = lines_of(sipd.conf_path)
            p = sipdtest.sipctl(sipd, "reload")
            print("reload (broken): exit %d, %r" % (p.returncode, p.stderr))
            want = "%s:%d: " % (os.path.realpath(sipd.conf_path), bad)
            check(p.returncode == 1, "a broken file: exit %d" % p.returncode)
            check(want in p.stderr and "frog" in p.stderr,
                  "no FILE:LINE error: %r (wanted %r)" % (p.stderr, want))
            check(setting(sipd, "t2") == 4500, "a broken file changed t2")
            check(not answers(extra), "a broken file opened a listener")

            # a port in use: FILE:LINE of its listener, nothing changed
            holder = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            holder.bind(("127.0.0.1", 0))
            taken = holder.getsockname()[1]
            try:
                with open(sipd.conf_path, "w") as f:
                    f.write(original + "set t2 4000\n"
                            "listener add udp 127.0.0.1:%d\n" % taken)
                line = lines_of(sipd.conf_path)
                p = sipdtest.sipctl(sipd, "reload")
                print("reload (port in use): exit %d, %r" % (
                    p.returncode, p.stderr))
                want = "%s:%d: " % (os.path.realpath(sipd.conf_path), line)
                check(p.returncode == 1 and want in p.stderr and
                      str(taken) in p.stderr,
                      "a port in use: %r (wanted %r)" % (p.stderr, want))
                check(setting(sipd, "t2") == 4500,
                      "a failed listener left t2 changed")
            finally:
                holder.close()

            # SIGHUP says the same in the log
            with open(sipd.conf_path, "w") as f:
                f.write(original + "set t1 frog\n")
            os.kill(sipd.proc.pid, signal.SIGHUP)
            want = "%s:%d: " % (os.path.realpath(sipd.conf_path),
                                lines_of(sipd.conf_path))
            check(sipd.wait_log("reload failed, configuration unchanged "
                                "(" + want, 5.0),
                  "SIGHUP: no FILE:LINE line in the log")

            rc_uac = uac.wait(30)
            rc_uas = uas.wait(30)
        finally:
            uac.kill()
            uas.kill()
        check(rc_uac == 0 and uac.successful_calls() == 1,
              "the UAC's call failed (exit %d):\n%s" % (
                  rc_uac, uac.output()[-2000:]))
        check(rc_uas == 0 and uas.successful_calls() == 1,
              "the UAS's call failed (exit %d):\n%s" % (
                  rc_uas, uas.output()[-2000:]))
        with open(sipd.conf_path, "w") as f:
            f.write(original)
        check(sipd.alive(), "sipd died")
        sipdtest.stop_clean(sipd)


sipdtest.run(test)

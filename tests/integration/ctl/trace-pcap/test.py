"""trace over TCP and IPv6, and the address and user filters.  sipd
listens on UDP and TCP, on 127.0.0.1 and ::1.  While "sipctl trace pcap
FILE", "trace address [::1]:PORT" and "trace user abuser" run, OPTIONS go
to sipd over UDP on ::1 (From sip:test@...), twice over one TCP
connection on 127.0.0.1 and once over TCP on ::1 (From sip:abuser@...).
tshark -Y sip decodes exactly the 8 messages from the pcapng, each with
its real addresses (IPv4 or IPv6), transport and ports, and the two
requests on one TCP connection as two SIP messages (sequence numbers
that follow on).  The address filter keeps the ::1 UDP exchange alone;
the user filter the three TCP exchanges (requests and responses, which
carry the same From)."""

import json
import os
import shutil
import signal
import subprocess
import time

import sipdtest
import sipua
from sipdtest import Peer, Skip, Sipd, check, request, sipctl


def start_trace(sipd, *args):
    return subprocess.Popen([sipdtest.sipctl_binary(), "-s", sipd.sock_path]
                            + list(args), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL)


def stop_trace(proc):
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=5)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    check(proc.returncode == 0, "trace exit %d: %r" % (proc.returncode, err))
    return out


def tcp_options(host, port, n):
    conn = sipua.RawConn(port, host)
    try:
        data = b"".join(conn.options(port) for _ in range(n))
        if host == "::1":
            data = data.replace(b"127.0.0.1", b"[::1]")
        check(conn.send(data), "TCP send")
        got = conn.read(n, 3.0)
        check(len(got) == n and all(m.status == 200 for m in got),
              "TCP %s: %r" % (host, got))
        return conn.port
    finally:
        conn.close()


def test(binary, started):
    tshark = shutil.which("tshark")
    if tshark is None:
        raise Skip("tshark not installed")
    if not sipdtest.ipv6_available():
        raise Skip("no IPv6 loopback")
    tcp4 = sipdtest.free_tcp_port("127.0.0.1")
    tcp6 = sipdtest.free_tcp_port("::1")
    sipd = Sipd(binary, listeners=("127.0.0.1", "::1"),
                conf="listener add tcp 127.0.0.1:%d\n"
                     "listener add tcp [::1]:%d" % (tcp4, tcp6))
    started.append(sipd)
    sipd.start()
    udp6 = sipd.ports[1]
    pcap = os.path.join(sipd.dir.name, "trace.pcapng")
    procs = {
        "pcap": start_trace(sipd, "trace", "pcap", pcap),
        "addr": start_trace(sipd, "-j", "trace", "address",
                            "[::1]:%d" % udp6),
        "user": start_trace(sipd, "-j", "trace", "user", "abuser"),
    }
    try:
        for _ in range(50):
            p = sipctl(sipd, "-j", "status")
            if json.loads(p.stdout)["data"].get("tracers") == len(procs):
                break
            time.sleep(0.1)
        else:
            raise sipdtest.Fail("the traces did not start")
        peer = Peer("::1")
        try:
            r = peer.ask(request("OPTIONS", udp6, host="::1",
                                 via_host="[::1]"), udp6, host="::1")
            check(r is not None and r.status == 200, "UDP ::1 OPTIONS")
            uport6 = peer.sock.getsockname()[1]
        finally:
            peer.close()
        cport4 = tcp_options("127.0.0.1", tcp4, 2)
        cport6 = tcp_options("::1", tcp6, 1)
        out = {k: stop_trace(p) for k, p in procs.items()}
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.kill()
                p.wait()

    p = subprocess.run([tshark, "-r", pcap, "-Y", "sip", "-T", "fields",
                        "-e", "ip.src", "-e",
                        "ipv6.src", "-e", "udp.srcport", "-e", "tcp.srcport",
                        "-e", "ip.dst", "-e", "ipv6.dst", "-e", "udp.dstport",
                        "-e", "tcp.dstport", "-e", "sip.CSeq.method"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=60)
    check(p.returncode == 0, "tshark: %s" % p.stderr)
    frames = [f.replace("\t", "/") for f in p.stdout.splitlines()]
    want = [
        "/::1/%d//" % uport6 + "/::1/%d//OPTIONS" % udp6,
        "/::1/%d//" % udp6 + "/::1/%d//OPTIONS" % uport6,
        "127.0.0.1///%d" % cport4 + "/127.0.0.1///%d/OPTIONS" % tcp4,
        "127.0.0.1///%d" % cport4 + "/127.0.0.1///%d/OPTIONS" % tcp4,
        "127.0.0.1///%d" % tcp4 + "/127.0.0.1///%d/OPTIONS" % cport4,
        "127.0.0.1///%d" % tcp4 + "/127.0.0.1///%d/OPTIONS" % cport4,
        "/::1//%d" % cport6 + "//::1//%d/OPTIONS" % tcp6,
        "/::1//%d" % tcp6 + "//::1//%d/OPTIONS" % cport6,
    ]
    check(sorted(frames) == sorted(want), "tshark decodes\n%s\nnot\n%s" % (
        "\n".join(frames), "\n".join(want)))

    def msgs(text):
        return [json.loads(line)["data"] for line in text.splitlines()
                if json.loads(line).get("ev") == "msg"]
    kept = msgs(out["addr"])
    check(len(kept) == 2 and all(m["remote"] == "::1" and
                                 m["transport"] == "udp" for m in kept),
          "address filter kept %r" % kept)
    kept = msgs(out["user"])
    check(len(kept) == 6 and all(m["transport"] == "tcp" for m in kept),
          "user filter kept %r" % [(m["transport"], m["data"][:40])
                                   for m in kept])
    sipdtest.stop_clean(sipd)


sipdtest.run(test)

"""HEP v3 mirroring: with "hep server 127.0.0.1:PORT" and "hep id 4242"
in the configuration, a sipp call through sipd over UDP (sipp UAC ->
sipd -> sipp UAS) reaches a HEP collector on loopback (a decoder here)
complete and in order: one HEP3 packet per message sipd received or
sent, each with capture id 4242, IPv4/UDP, the real source and
destination addresses and ports, a time, and a payload that is exactly
the bytes a sipp sent or received, in the order each sipp saw them.
Then "sipctl hep server off": an OPTIONS after it is not mirrored.
Without HEP mirroring the collector receives nothing (fails)."""

import socket
import struct
import tempfile
import time

import sipdtest
import sipua
from sipdtest import Peer, check, request, sipctl


def decode(pkt):
    """A HEP v3 packet: its chunks {type: bytes}; fails on a bad one."""
    check(pkt[:4] == b"HEP3", "not HEP3: %r" % pkt[:16])
    total = struct.unpack("!H", pkt[4:6])[0]
    check(total == len(pkt), "HEP length %d, packet %d" % (total, len(pkt)))
    off, chunks = 6, {}
    while off < total:
        check(off + 6 <= total, "chunk head cut at %d" % off)
        vendor, ctype, clen = struct.unpack("!HHH", pkt[off:off + 6])
        check(vendor == 0 and clen >= 6 and off + clen <= total,
              "bad chunk %d/%d/%d at %d" % (vendor, ctype, clen, off))
        chunks[ctype] = pkt[off + 6:off + clen]
        off += clen
    return chunks


def collect(sock, quiet=0.5, most=1000):
    out = []
    sock.settimeout(quiet)
    for _ in range(most):
        try:
            out.append(decode(sock.recv(65535)))
        except socket.timeout:
            break
    return out


def test(binary, started):
    sipua.sipp_binary()
    coll = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    coll.bind(("127.0.0.1", 0))
    cport = coll.getsockname()[1]
    try:
        with tempfile.TemporaryDirectory(prefix="sipdtest-") as workdir:
            call = sipua.SippCall(
                binary, started, workdir, "u1", "u1", calls=1,
                conf=("hep server 127.0.0.1:%d" % cport, "hep id 4242"))
            call.run()
            sipd = call.sipd
            # sipd's readiness check (an OPTIONS from the test's
            # library) is mirrored too: keep the call's peers
            ports = (call.uac_port, call.uas_port)
            got = [c for c in collect(coll)
                   if struct.unpack("!H", c[0x0007])[0] in ports or
                   struct.unpack("!H", c[0x0008])[0] in ports]
            want = []
            for trace, port in ((call.uac_trace, call.uac_port),
                                (call.uas_trace, call.uas_port)):
                for way, m in trace:
                    want.append((way, port, m.raw))
            check(len(got) == len(want), "collector got %d packets, sipps "
                  "%d messages" % (len(got), len(want)))
            seen = []
            last = 0
            for c in got:
                check(struct.unpack("!I", c[0x000c])[0] == 4242,
                      "capture id %r" % c[0x000c])
                check(c[0x0001] == b"\x02" and c[0x0002] == b"\x11" and
                      c[0x000b] == b"\x01", "family/proto/type")
                src = socket.inet_ntoa(c[0x0003])
                dst = socket.inet_ntoa(c[0x0004])
                sp = struct.unpack("!H", c[0x0007])[0]
                dp = struct.unpack("!H", c[0x0008])[0]
                t = struct.unpack("!I", c[0x0009])[0] * 1000000 + \
                    struct.unpack("!I", c[0x000a])[0]
                check(abs(t / 1e6 - time.time()) < 60, "time %d" % t)
                check(t >= last, "time goes back")
                last = t
                if sp == sipd.port:
                    check(src == "127.0.0.1", "sipd's address %s" % src)
                    peer = dp
                    way = "received"   # by the sipp
                    check(dst == ("127.0.0.2" if dp == call.uas_port
                                  else "127.0.0.1"), "dst %s" % dst)
                else:
                    check(dp == sipd.port and dst == "127.0.0.1",
                          "to sipd: %s:%d" % (dst, dp))
                    peer = sp
                    way = "sent"
                seen.append((way, peer, c[0x000f]))
            check(sorted(seen) == sorted(want), "payloads differ")
            for port in (call.uac_port, call.uas_port):
                check([s for s in seen if s[1] == port] ==
                      [w for w in want if w[1] == port],
                      "order at %d" % port)

            p = sipctl(sipd, "hep", "server", "off")
            check(p.returncode == 0, "hep server off: %r" % p.stderr)
            peer = Peer()
            try:
                r = peer.ask(request("OPTIONS", sipd.port), sipd.port)
                check(r is not None, "no answer to OPTIONS")
            finally:
                peer.close()
            check(collect(coll, 0.5) == [], "mirrored after off")
            sipdtest.stop_clean(sipd)
    finally:
        coll.close()


sipdtest.run(test)

"""Requests msg_check() refuses are answered with its status and a reason
phrase naming the fault whenever the top Via parses (RFC 3261 8.2.6.1):
the 400 is built from the request's raw headers, with the Vias (received
and rport set) and whichever of From, To, Call-ID and CSeq are usable.
What sipd.8 says is dropped silently is dropped: a request without a
usable top Via, an ACK, a NUL outside a quoted-pair.

The tricky-but-valid inputs of the same kind are answered 200: folded
header values (RFC 3261 7.3.1) including the top Via, which comes back
unfolded with received and rport right, and a display name holding a
quoted-pair that escapes a NUL (25.1)."""

import socket

import sipdtest
from sipdtest import Peer, Sipd, check, new_tag, request

FROM = "<sip:test@example.invalid>;tag=f1"
TO = "<sip:ping@example.invalid>"


def options(port, branch, hdrs):
    """An OPTIONS to sipd on port with these header lines (a list of
    "Name: value" strings, or bytes, each without its CRLF) after a top
    Via of branch."""
    lines = [b"OPTIONS sip:ping@127.0.0.1:%d SIP/2.0" % port,
             b"Via: SIP/2.0/UDP 127.0.0.1;branch=%s;rport" % branch.encode()]
    lines += [h if isinstance(h, bytes) else h.encode() for h in hdrs]
    return b"\r\n".join(lines) + b"\r\n\r\n"


def base(omit=(), **repl):
    """The usual headers, less omit, with some values replaced."""
    hdrs = [("Max-Forwards", "70"), ("From", FROM), ("To", TO),
            ("Call-ID", "%s@malformed" % new_tag()),
            ("CSeq", "1 OPTIONS"), ("Content-Length", "0")]
    repl = {k.rstrip("_"): v for k, v in repl.items()}
    out = []
    for name, value in hdrs:
        if name in omit:
            continue
        value = repl.get(name.replace("-", "_").lower(), value)
        out.append(value if isinstance(value, bytes) else
                   "%s: %s" % (name, value))
    return out


def answer(peer, sipd, hdrs, what):
    branch = "z9hG4bK" + new_tag()
    peer.send(options(sipd.port, branch, hdrs), sipd.port)
    r = peer.recv(2.0)
    check(r is not None, "%s: no answer" % what)
    via = ("SIP/2.0/UDP 127.0.0.1;branch=%s;received=127.0.0.1;rport=%d"
           % (branch, peer.port))
    check(r.get("Via") == [via], "%s: Via %r, want %r" % (
        what, r.get("Via"), via))
    return r


def refused(peer, sipd, hdrs, reason, absent, what):
    """A 400 with reason, without the headers named in absent, with the
    others copied (To with sipd's tag)."""
    r = answer(peer, sipd, hdrs, what)
    check(r.status == 400 and r.reason == reason,
          "%s: got %d %s, want 400 %s" % (what, r.status, r.reason, reason))
    sent = {h.split(":", 1)[0]: h.split(":", 1)[1].strip()
            for h in hdrs if isinstance(h, str) and ":" in h}
    for name in ("From", "To", "Call-ID", "CSeq"):
        got = r.get(name)
        if name in absent:
            check(got == [], "%s: %s copied: %r" % (what, name, got))
        elif name == "To":
            check(len(got) == 1 and got[0].startswith(sent["To"] + ";tag="),
                  "%s: To %r" % (what, got))
        else:
            check(got == [sent[name]], "%s: %s %r, want %r" % (
                what, name, got, sent[name]))
    return r


def silent(peer, sipd, data, what):
    peer.send(data, sipd.port)
    r = peer.recv(1.0)
    check(r is None, "%s: answered %r" % (what, r))


def test(binary, started):
    sipd = Sipd(binary, clients=False)
    started.append(sipd)
    sipd.start()
    peer = Peer()
    try:
        # RFC 3261 8.2.6.1: missing headers, named in the reason phrase
        for name in ("Call-ID", "CSeq", "From", "To"):
            refused(peer, sipd, base(omit=(name,)), "Missing " + name,
                    (name,), "no " + name)
        # headers that do not parse are left out of the 400
        refused(peer, sipd, base(from_='"Alice <sip:a@example.invalid>;tag=1'),
                "Bad From", ("From",), "unterminated quote in From")
        refused(peer, sipd, base(to="Bob (home) <sip:b@example.invalid>"),
                "Bad To", ("To",), "non-token display name in To")
        refused(peer, sipd, base(from_="Al@ce <sip:a@example.invalid>;tag=1"),
                "Bad From", ("From",), "non-token display name in From")
        refused(peer, sipd, base(call_id="two words"), "Bad Call-ID",
                ("Call-ID",), "Call-ID with a space")
        refused(peer, sipd, base(call_id=""), "Bad Call-ID", ("Call-ID",),
                "empty Call-ID")
        refused(peer, sipd, base(cseq="x OPTIONS"), "Bad CSeq", ("CSeq",),
                "CSeq not a number")
        refused(peer, sipd, base(cseq="7 INVITE"), "CSeq Method Mismatch",
                (), "CSeq of another method")
        two = base() + ["Call-ID: second@malformed"]
        refused(peer, sipd, two, "Bad Call-ID", ("Call-ID",), "two Call-IDs")
        # a header line without a colon
        hdrs = base()
        hdrs.insert(2, "This line has no colon")
        refused(peer, sipd, hdrs, "Bad Header Line", (), "line without colon")
        # a bare CR, where another parser could end the line
        hdrs = base()
        hdrs.insert(2, "Subject: hi\rRoute: <sip:127.0.0.2;lr>")
        refused(peer, sipd, hdrs, "Bad Header Line", (), "bare CR")

        # start line faults keep their own status
        peer.send(request("OPTIONS", sipd.port, uri="foo:bar@example"),
                  sipd.port)
        r = peer.recv(2.0)
        check(r is not None and r.status == 416, "unknown scheme: %r" % r)
        peer.send(request("OPTIONS", sipd.port, version="SIP/7.0"),
                  sipd.port)
        r = peer.recv(2.0)
        check(r is not None and r.status == 505, "SIP/7.0: %r" % r)
        check(";received=127.0.0.1" in (r.first("Via") or ""),
              "505: Via lacks received")

        # dropped silently, as sipd.8 lists: no answer can be routed
        # without a usable top Via; an ACK is never answered (17.1.1.3)
        silent(peer, sipd, request("OPTIONS", sipd.port, omit=("Via",)),
               "no Via")
        silent(peer, sipd, request("OPTIONS", sipd.port,
                                   via_host="bad host"), "bad Via")
        silent(peer, sipd, request("ACK", sipd.port, omit=("Call-ID",)),
               "ACK without Call-ID")
        # a NUL outside a quoted-pair: not SIP
        silent(peer, sipd, options(sipd.port, "z9hG4bK" + new_tag(),
                                   base(from_=b'From: "A\x00" <sip:a@x>')),
               "raw NUL in a display name")
        check(sipd.wait_log("dropped OPTIONS from 127.0.0.1:%d (Missing "
                            "Via, and no response possible)" % peer.port),
              "no log line for the request without Via")
        check(sipd.wait_log("with 400 (Missing Call-ID)"),
              "no log line for the 400")

        # RFC 3261 7.3.1: folds anywhere, the top Via's too
        folded_via = [
            b"Via: SIP/2.0/UDP\r\n 127.0.0.1;branch=%s;rport",
            b"Via: SIP/2.0/UDP 127.0.0.1\r\n\t;branch=%s\r\n ;rport",
            b"Via:\r\n SIP/2.0/UDP 127.0.0.1;branch=%s;rport",
            b"Via: SIP/2.0 / UDP 127.0.0.1;branch=%s;\r\n rport",
        ]
        for i, via in enumerate(folded_via):
            branch = "z9hG4bK" + new_tag()
            data = options(sipd.port, branch, base(
                cseq=b"CSeq: 1\r\n OPTIONS",
                to=b"To:\r\n\t" + TO.encode()))
            # replace the plain top Via by the folded one
            plain = b"Via: SIP/2.0/UDP 127.0.0.1;branch=%s;rport" % (
                branch.encode())
            data = data.replace(plain, via % branch.encode())
            peer.send(data, sipd.port)
            raw = recv_raw(peer)
            check(raw is not None, "folded Via %d: no answer" % i)
            check(raw.startswith(b"SIP/2.0 200 "),
                  "folded Via %d: %r" % (i, raw[:40]))
            vias = [ln for ln in raw.split(b"\r\n")
                    if ln.lower().startswith(b"via:")]
            check(len(vias) == 1, "folded Via %d: Vias %r" % (i, vias))
            v = vias[0].decode()
            check("\r" not in v and "\n" not in v, "Via still folded")
            check(("branch=%s" % branch) in v and
                  v.endswith(";received=127.0.0.1;rport=%d" % peer.port),
                  "folded Via %d: %r lacks received/rport" % (i, v))
            check(v.count("rport") == 1, "folded Via %d: %r" % (i, v))

        # RFC 3261 25.1: a quoted-pair may escape a NUL
        from_nul = b'From: "A\\\x00B" <sip:a@example.invalid>;tag=n1'
        peer.send(options(sipd.port, "z9hG4bK" + new_tag(),
                          base(from_=from_nul)), sipd.port)
        raw = recv_raw(peer)
        check(raw is not None and raw.startswith(b"SIP/2.0 200 "),
              "escaped NUL: %r" % (raw[:40] if raw else raw))
        check(b"\r\n" + from_nul + b"\r\n" in raw,
              "escaped NUL: From not copied byte for byte")
    finally:
        peer.close()
    check(sipd.alive(), "sipd died")
    sipdtest.stop_clean(sipd)
    escaped_nul_proxied(binary, started)


def header(raw, name):
    """The first header line called name of raw bytes, as bytes."""
    for line in raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]:
        if line.lower().startswith(name.lower() + b":"):
            return line
    return None


def escaped_nul_proxied(binary, started):
    """A request whose From escapes a NUL is proxied, and the CANCEL
    sipd builds for it carries that From byte for byte (RFC 3261 9.1)."""
    sipd = Sipd(binary)
    started.append(sipd)
    sipd.start()
    caller, device = Peer(), Peer()
    try:
        from_nul = b'From: "A\\\x00B" <sip:a@example.invalid>;tag=n2'
        cid = ("%s@nul" % new_tag()).encode()
        branch = ("z9hG4bK" + new_tag()).encode()

        def req(method):
            return (b"%s sip:dev@127.0.0.1:%d SIP/2.0\r\n"
                    b"Via: SIP/2.0/UDP 127.0.0.1:%d;branch=%s;rport\r\n"
                    b"Max-Forwards: 70\r\n%s\r\n"
                    b"To: <sip:dev@127.0.0.1>\r\nCall-ID: %s\r\n"
                    b"CSeq: 1 %s\r\nContent-Length: 0\r\n\r\n" % (
                        method, device.port, caller.port, branch, from_nul,
                        cid, method))
        caller.send(req(b"INVITE"), sipd.port)
        inv = recv_raw(device)
        check(inv is not None and inv.startswith(b"INVITE "),
              "escaped NUL: INVITE not forwarded: %r" % inv)
        check(header(inv, b"From") == from_nul,
              "escaped NUL: forwarded From %r" % header(inv, b"From"))
        # the device rings: 180 back through sipd
        vias = [ln for ln in inv.split(b"\r\n") if ln.startswith(b"Via:")]
        ring = b"SIP/2.0 180 Ringing\r\n" + b"\r\n".join(vias) + (
            b"\r\n%s\r\nTo: <sip:dev@127.0.0.1>;tag=d1\r\n"
            b"Call-ID: %s\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"
            % (from_nul, cid))
        device.send(ring, sipd.port)
        got = []
        for _ in range(3):
            r = recv_raw(caller)
            check(r is not None, "escaped NUL: no 180 (got %r)" % got)
            got.append(r[:12])
            if r.startswith(b"SIP/2.0 180"):
                break
        caller.send(req(b"CANCEL"), sipd.port)
        can = None
        for _ in range(3):
            can = recv_raw(device)
            if can is None or can.startswith(b"CANCEL "):
                break
        check(can is not None and can.startswith(b"CANCEL "),
              "escaped NUL: no CANCEL reached the device: %r" % can)
        check(header(can, b"From") == from_nul,
              "escaped NUL: CANCEL's From %r" % header(can, b"From"))
    finally:
        caller.close()
        device.close()
    sipdtest.stop_clean(sipd)


def recv_raw(peer, timeout=2.0):
    peer.sock.settimeout(timeout)
    try:
        data, _ = peer.sock.recvfrom(65536)
    except socket.timeout:
        return None
    return data


sipdtest.run(test)

"""OPTIONS gets 200 with Allow, Accept and Supported and a To tag; the Via
comes back with received and rport filled (RFC 3581), and the response goes
where RFC 3261 18.2.2 says: to the source port with rport, else to the
sent-by port."""

import sipdtest
from sipdtest import Peer, Sipd, check, request


def test(binary, started):
    sipd = Sipd(binary, conf="log level all low-level")
    started.append(sipd)
    sipd.start()
    peer = Peer()
    other = Peer()
    try:
        req = request("OPTIONS", sipd.port, via_port=peer.port,
                      call_id="options-1@sipdtest", cseq="42 OPTIONS")
        r = peer.ask(req, sipd.port)
        check(r is not None, "no answer to OPTIONS")
        check(r.status == 200 and r.reason == "OK", "got %r" % r)
        allow = [m.strip() for v in r.get("Allow") for m in v.split(",")]
        check("OPTIONS" in allow, "Allow lacks OPTIONS: %r" % allow)
        check(r.get("Allow") == ["OPTIONS"],
              "Allow lists more than sipd handles: %r" % r.get("Allow"))
        check("application/sdp" in (r.first("Accept") or ""),
              "Accept: %r" % r.get("Accept"))
        check(len(r.get("Supported")) == 1, "no Supported header")
        check(";tag=" in (r.first("To") or ""), "To has no tag: %r"
              % r.first("To"))
        check(r.first("Call-ID") == "options-1@sipdtest", "Call-ID changed")
        check(r.first("CSeq") == "42 OPTIONS", "CSeq: %r" % r.first("CSeq"))
        via = r.first("Via") or ""
        check("received=127.0.0.1" in via, "no received: %r" % via)
        check("rport=%d" % peer.port in via, "no rport value: %r" % via)
        check(r.first("Content-Length") == "0", "Content-Length")

        # Tags differ between responses (RFC 3261 19.3).
        r2 = peer.ask(request("OPTIONS", sipd.port), sipd.port)
        check(r2 is not None and r2.first("To") != r.first("To"),
              "To tag reused")

        # rport: to the source port even when sent-by names another.
        req = request("OPTIONS", sipd.port, via_port=other.port, rport=True)
        r = peer.ask(req, sipd.port)
        check(r is not None and r.status == 200,
              "rport: no answer at the source port")
        check(other.recv(0.3) is None, "rport: answer went to sent-by")

        # No rport: to the sent-by port, at the source address.
        req = request("OPTIONS", sipd.port, via_port=other.port, rport=False)
        peer.send(req, sipd.port)
        r = other.recv(2.0)
        check(r is not None and r.status == 200,
              "no rport: no answer at the sent-by port")
        check("rport" not in (r.first("Via") or ""),
              "rport added: %r" % r.first("Via"))
        check(peer.recv(0.3) is None, "no rport: answer went to source")

        # A sent-by host other than the source gets received= even
        # without rport; the answer still goes to the source address.
        req = request("OPTIONS", sipd.port, via_host="192.0.2.1",
                      via_port=other.port, rport=False)
        peer.send(req, sipd.port)
        r = other.recv(2.0)
        check(r is not None, "sent-by elsewhere: no answer")
        check("received=127.0.0.1" in (r.first("Via") or ""),
              "sent-by elsewhere: no received: %r" % r.first("Via"))

        check(sipd.wait_log("answered OPTIONS from 127.0.0.1:%d with 200"
                            % peer.port), "no log line for the answer")
    finally:
        peer.close()
        other.close()
    sipdtest.stop_clean(sipd)


sipdtest.run(test)

"""show transactions server|client with a filter, the words of trace's
(callid, method, address) and state, over the real control socket with
live transactions: an INVITE relayed to a callee on 127.0.0.2 and a
MESSAGE relayed to one on 127.0.0.3, neither answering, so that both
stay live (Timers B and F, 32 s).  The server side holds the INVITE
Proceeding (sipd sent 100) and the MESSAGE Trying.  Each filter keeps
exactly the rows it names: callid the one call's; method message (any
case) the MESSAGE's; address 127.0.0.3 or 127.0.0.3:PORT the client
transaction to that callee, and 127.0.0.9 none; state proceeding the
INVITE's, state trying the MESSAGE's; callid of the INVITE with state
trying none (the words all must match).  A filter with no match is an
empty list, not an error.  The people's table keeps only the filtered
rows too.  A state that is none (state bogus): a usage error (exit 2),
sipd asked nothing.  Without a filter both rows are listed, as
before."""

import json
import socket

import sipdtest
from sipdtest import Sipd, check, new_tag, sipctl


def req(method, host, callee_port, caller_port, call_id):
    return ("%s sip:bob@%s:%d SIP/2.0\r\n"
            "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK%s;rport\r\n"
            "Max-Forwards: 70\r\n"
            "From: <sip:alice@example.invalid>;tag=%s\r\n"
            "To: <sip:bob@example.invalid>\r\n"
            "Call-ID: %s\r\n"
            "CSeq: 1 %s\r\n"
            "Contact: <sip:alice@127.0.0.1:%d>\r\n"
            "Content-Length: 0\r\n\r\n" % (
                method, host, callee_port, caller_port, new_tag(),
                new_tag(), call_id, method, caller_port)).encode()


def rows(sipd, *words):
    p = sipctl(sipd, "-j", "show", "transactions", *words)
    check(p.returncode == 0, "show transactions %s: %d %r" % (
        " ".join(words), p.returncode, p.stderr))
    data = json.loads(p.stdout)["data"]
    check(isinstance(data, list), "not a list: %r" % data)
    return data


def ids(data, calls):
    """The Call-IDs of data's rows among calls (others' rows ignored)."""
    return sorted(r["call-id"] for r in data if r["call-id"] in calls)


def test(binary, started):
    sipd = Sipd(binary)
    started.append(sipd)
    sipd.start()
    caller = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    callee2 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    callee3 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        caller.bind(("127.0.0.1", 0))
        callee2.bind(("127.0.0.2", 0))
        callee3.bind(("127.0.0.3", 0))
        cport = caller.getsockname()[1]
        port2 = callee2.getsockname()[1]
        port3 = callee3.getsockname()[1]
        inv = "txf-inv-%s@sipdtest" % new_tag()
        msg = "txf-msg-%s@sipdtest" % new_tag()
        calls = {inv, msg}
        caller.sendto(req("INVITE", "127.0.0.2", port2, cport, inv),
                      ("127.0.0.1", sipd.port))
        caller.sendto(req("MESSAGE", "127.0.0.3", port3, cport, msg),
                      ("127.0.0.1", sipd.port))
        for sock, method in ((callee2, b"INVITE "), (callee3, b"MESSAGE ")):
            sock.settimeout(3)
            got = sock.recvfrom(65536)[0]
            check(got.startswith(method), "the callee got %r" % got[:20])

        check(ids(rows(sipd, "server"), calls) == sorted(calls),
              "no filter: both rows")
        check(ids(rows(sipd, "client"), calls) == sorted(calls),
              "no filter: both client rows")
        check(ids(rows(sipd, "server", "callid", inv), calls) == [inv],
              "callid")
        check(ids(rows(sipd, "client", "callid", msg), calls) == [msg],
              "callid, client")
        check(ids(rows(sipd, "server", "method", "message"), calls) ==
              [msg], "method message")
        check(ids(rows(sipd, "client", "method", "INVITE"), calls) ==
              [inv], "method INVITE")
        check(ids(rows(sipd, "client", "address", "127.0.0.3"), calls) ==
              [msg], "address 127.0.0.3")
        check(ids(rows(sipd, "client", "address", "127.0.0.3:%d" % port3),
                  calls) == [msg], "address with port")
        check(rows(sipd, "client", "address", "127.0.0.9") == [],
              "address 127.0.0.9: no row")
        srv = rows(sipd, "server", "state", "proceeding")
        check(ids(srv, calls) == [inv] and
              all(r["state"] == "Proceeding" for r in srv),
              "state proceeding %r" % srv)
        check(ids(rows(sipd, "server", "state", "trying"), calls) == [msg],
              "state trying")
        check(rows(sipd, "server", "callid", inv, "state", "trying") == [],
              "callid and state both must match")

        p = sipctl(sipd, "sh", "tr", "s", "callid", inv)
        check(p.returncode == 0 and inv in p.stdout and
              msg not in p.stdout, "people's table %r" % p.stdout)
        p = sipctl(sipd, "show", "transactions", "server", "state", "bogus")
        check(p.returncode == 2, "state bogus: exit %d %r" % (
            p.returncode, p.stderr))
    finally:
        caller.close()
        callee2.close()
        callee3.close()
    sipdtest.stop_clean(sipd)


sipdtest.run(test)

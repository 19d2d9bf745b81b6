"""Two real user agents: Debian's baresip as alice (127.0.0.3) and bob
(127.0.0.4) register to sipd with Digest, directly, against sipd's
default challenges, then alice calls bob through sipd (set force-rr
on: sipd stays on the dialog's path); bob answers by itself
(answermode=auto); alice hangs up.

baresip 1.0.0 (libre 1.1) gives up on a 401 that holds any challenge
other than MD5, first or not ("Register: Function not implemented"):
sipd's default offers MD5 only (sipd.conf(5), auth-sha256), and each
phone must register against it as shipped.  With the SHA-256 challenge
offered (first or second) neither registers and the test fails.

What is checked is what the phones themselves sent and received: their
SIP traces (baresip -s), not sipd's log.  Each phone received a 401
whose only challenge is MD5, then a 200 to its REGISTER; sipd's binding
is the phone's own address exactly.  bob received the INVITE from
sipd's address, its Request-URI his registered contact, with sipd's
Record-Route; alice received the 200; bob received the ACK and the BYE
of that call from sipd, and alice the 200 to her BYE.

baresip runs headless: audio through its aubridge module (no device),
commands over its ctrl_tcp module (netstrings of JSON) on 127.0.0.1.
Skipped without baresip (apt-get install baresip-core); a failure when
CI=true."""

import re
import os
import shutil

import sipdtest
import sipreg
from sipphone import Baresip
from sipdtest import Fail, Skip, check

CONF = """domain add example.com
account add alice@example.com password alice-pw
account add bob@example.com password bob-pw
set force-rr on
"""



def check_registered(sipd, b):
    """b registered directly: the challenge it read offers MD5 only (the
    default: baresip 1.0 gives up on a response holding any SHA-256
    challenge, first or not), it got a 200, and sipd's binding is b's own
    address."""
    sipd_addr = "127.0.0.1:%d" % sipd.port
    chs = [m for m in b.received("SIP/2.0 401", sipd_addr)
           if m.cseq()[1] == "REGISTER"]
    check(chs, "%s received no 401 to its REGISTER from sipd" % b.name)
    algs = sipreg.challenge_algs(chs[0])
    check(algs == ["MD5"],
          "%s was challenged with %s, not MD5 alone" % (b.name, algs))
    oks = [m for m in b.received("SIP/2.0 200", sipd_addr)
           if m.cseq()[1] == "REGISTER"]
    check(oks, "%s received no 200 to its REGISTER" % b.name)
    got = sipreg.registrations(sipd, "%s@example.com" % b.name)
    check(len(got) == 1, "%s's bindings: %s" % (b.name, got))
    check(got[0]["source"] == b.addr,
          "%s's binding was registered from %s, not the phone's %s" % (
              b.name, got[0]["source"], b.addr))
    check(re.match(r"sip:%s(-[^@]*)?@%s(;|$)" % (b.name, re.escape(b.addr)),
                   got[0]["contact"]) is not None,
          "%s's contact %s is not at %s" % (b.name, got[0]["contact"],
                                            b.addr))
    return got[0]["contact"]


def test(binary, started):
    if shutil.which("baresip") is None:
        if os.environ.get("CI") == "true":
            raise Fail("baresip not installed (CI=true)")
        raise Skip("baresip not installed (apt-get install baresip-core)")
    sipd = sipreg.start(binary, started, conf=CONF)
    sipd_addr = "127.0.0.1:%d" % sipd.port
    agents = []
    try:
        bob = Baresip(sipd.dir.name, "bob", "127.0.0.4", "bob-pw",
                      sipd.port, answer=True)
        agents.append(bob)
        alice = Baresip(sipd.dir.name, "alice", "127.0.0.3", "alice-pw",
                        sipd.port)
        agents.append(alice)
        for b in agents:
            sipreg.wait_for(
                "%s's registration" % b.name,
                lambda: [m for m in b.received("SIP/2.0 200", sipd_addr)
                         if m.cseq()[1] == "REGISTER"], 10.0, 0.2)
        contact = {b.name: check_registered(sipd, b) for b in agents}
        alice.command("dial", "sip:bob@example.com")
        oks = sipreg.wait_for("the call's 200 at alice", lambda: [
            m for m in alice.received("SIP/2.0 200", sipd_addr)
            if m.cseq()[1] == "INVITE"], 10.0, 0.2)
        call_id = oks[-1].call_id()
        sipreg.wait_for("the ACK at bob", lambda: bob.received(
            "ACK ", sipd_addr, call_id), 10.0, 0.2)
        alice.command("hangup")
        sipreg.wait_for("the BYE's 200 at alice", lambda: [
            m for m in alice.received("SIP/2.0 200", sipd_addr, call_id)
            if m.cseq()[1] == "BYE"], 10.0, 0.2)
    except Exception:
        for b in agents:
            print("--- baresip %s ---\n%s" % (b.name, b.output()[-3000:]))
        raise
    finally:
        for b in agents:
            b.stop()
    inv = bob.received("INVITE ", sipd_addr, call_id)
    check(len(inv) >= 1, "bob received no INVITE of the call from sipd")
    check(inv[0].uri == contact["bob"],
          "bob received the INVITE with Request-URI %s, not his contact %s"
          % (inv[0].uri, contact["bob"]))
    rr = inv[0].get("Record-Route")
    check(rr and rr[0].startswith("<sip:%s" % sipd_addr),
          "bob received the INVITE with Record-Route %s, not sipd's (%s)" % (
              rr, sipd_addr))
    sent = [w.msg for w in alice.wire() if w.way == "out" and
            w.msg.start.startswith("INVITE ") and w.peer == sipd_addr]
    check(sent and sent[-1].call_id() == call_id,
          "alice's INVITE of the call did not go to sipd")
    for method in ("ACK", "BYE"):
        check(bob.received(method + " ", sipd_addr, call_id),
              "bob received no %s of the call from sipd" % method)
    check(sipd.alive(), "sipd died")
    sipdtest.stop_clean(sipd)


sipdtest.run(test)

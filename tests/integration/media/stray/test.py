"""A 2xx retransmitted after sipd's client transaction ended (Timer M,
RFC 6026 7.2: 64*T1, here "set t1 10", so 640 ms) is relayed by its Via
with no transaction; its SDP must still name the relay, as the first 200
did, or the caller would be handed the callee's own address mid-call.
With "set media-relay always": the callee answers 200, waits past Timer
M and sends the same 200 again; the caller receives both, each naming
sipd and the same relay port.  Without the rewrite on that path the
second 200 names 127.0.0.3 and the check fails."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

import mediaua  # noqa: E402
import sipdtest  # noqa: E402
import sipua  # noqa: E402
from sipdtest import Sipd, check  # noqa: E402


def test(binary, started):
    lo, hi = mediaua.free_range(50)
    sipd = Sipd(binary, conf="set media-relay always\n"
                "set media-ports %d-%d\nset t1 10" % (lo, hi))
    started.append(sipd)
    sipd.start()
    caller = mediaua.Phone("127.0.0.2")
    callee = mediaua.Phone("127.0.0.3")
    call = sipua.Call(caller, callee.uri("bob"))

    caller.send(mediaua.invite(call, None, caller.offer()), sipd.port)
    inv = callee.expect_request("INVITE", call.call_id)
    tag = sipdtest.new_tag()
    mediaua.respond_sdp(callee, inv, 200, callee.offer(), to_tag=tag)
    ok = caller.expect_response(200, call, "INVITE")
    addr, ports, _ = mediaua.sdp_media(ok.body)
    check(addr == "127.0.0.1" and len(ports) == 1, "first 200: %r" %
          ok.body)

    time.sleep(1.0)  # past Timer M (640 ms)
    mediaua.respond_sdp(callee, inv, 200, callee.offer(), to_tag=tag)
    again = caller.expect_response(200, call, "INVITE")
    addr2, ports2, _ = mediaua.sdp_media(again.body)
    check(addr2 == "127.0.0.1" and ports2 == ports,
          "the 200 relayed without a transaction: %r" % again.body)
    caller.send(call.ack(ok), sipd.port)
    sipdtest.stop_clean(sipd)


sipdtest.run(test)

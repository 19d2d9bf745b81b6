"""The heap a ringing call holds (tests/bench/bench_ringmem.py, read from
the allocator, so the same on every run): 300 calls rung through sipd,
each an INVITE server and client transaction in Proceeding, the response
context and the call table's entry, must hold at most RING_MAX bytes of
heap each.  At 63e6e79 a ringing call held 10,941 bytes (the INVITE
parsed again for the 180 and kept, 5,092; the server transaction's copy
of the INVITE, 1,369; a 1,920-byte call record; two 392-byte
transactions): that fails here, as does main at 345a61c (2,979 bytes
here: the INVITE kept twice, as received and as sent, and the response
context's two 168-byte struct tp_src).  Now the forwarded INVITE and the
180 are kept as their own lines over the INVITE received (1,992 bytes
here).  On the way, as the caller received
them: an INVITE sent again while ringing gets its 180 again, the same
bytes (RFC 3261 17.2.1), and each CANCEL ends its call with a 487 built
from the request the server transaction keeps as bytes.  Not built
with the sanitizers (their allocator is not glibc's)."""

import os
import shutil
import sys

import sipdtest
from sipdtest import check

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "..", "bench"))
import bench_ringmem  # noqa: E402

RING_MAX = 2048  # bytes of heap per ringing call


def test(binary, started):
    if shutil.which("cc") is None:
        raise sipdtest.Skip("no cc to build memprobe.c")
    res = bench_ringmem.measure(binary, calls=300, warm=50, started=started)
    per = res["heap_bytes_per_call"]
    print("heap per ringing call: %.0f bytes, %.2f allocations" % (
        per, res["allocs_live_per_call"]))
    check(per <= RING_MAX, "a ringing call holds %.0f bytes of heap, more "
          "than %d" % (per, RING_MAX))


sipdtest.run(test)

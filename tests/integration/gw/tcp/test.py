"""A gateway reached over TCP (Via sip:127.0.0.2:PORT;transport=tcp), the
provider stand-in a sipp registrar requiring Digest over TCP: the
REGISTER goes over TCP with a TCP Via and a Contact with
;transport=tcp, the 401 is answered on the same connection, `show
gateways` names the target "tcp 127.0.0.2:PORT", and stopping sipd
removes the registration (Expires 0) over TCP too.
The old sipd knows no gateways: the configuration does not load."""

import os
import sys
import tempfile

import sipdtest
import sipua
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))
import gwlib  # noqa: E402
from sipdtest import check  # noqa: E402


def test(binary, started):
    work = tempfile.TemporaryDirectory(prefix="gw-tcp-")
    prov = gwlib.Provider(work.name, "registrar", "registrar.xml", 5,
                          sets=(("gwuser", "gw"), ("gwpass", "pw"),
                                ("expires", 60)), transport="t1")
    try:
        sipd = sipua.ProxySipd(binary, tcp=True, conf=lambda s: (
            "domain add example.com\n"
            "account add alice@example.com password a\n"
            "gateway add T domain t.test via "
            '"sip:127.0.0.2:%d;transport=tcp" username gw password pw '
            "register-every 60 contact alice\n" % prov.port))
        started.append(sipd)
        sipd.start()
        row = gwlib.wait_state(sipd, "T", ("registered",), 5)
        check(row["target"] == "tcp 127.0.0.2:%d" % prov.port,
              "target %s" % row["target"])
        regs = prov.received("REGISTER")
        check(len(regs) == 2 and all(
            r.first("Via").startswith("SIP/2.0/TCP 127.0.0.1:%d;" %
                                      sipd.port) for r in regs),
              "Vias: %s" % [r.first("Via") for r in regs])
        check(regs[0].first("Contact") ==
              "<sip:alice@127.0.0.1:%d;transport=tcp>" % sipd.port,
              "Contact %s" % regs[0].first("Contact"))
        sipdtest.stop_clean(sipd)
        unreg = [r for r in prov.received("REGISTER")
                 if r.first("Expires") == "0"]
        check(unreg, "no Expires 0 over TCP when sipd stopped")
    finally:
        prov.stop()


sipdtest.run(test)

"""sipctl one-shot commands change listeners live: a UDP listener added
with sipctl answers OPTIONS at once, shows in "listener list" (and -j),
is saved to the configuration file (the old one kept as .bak); removed,
it stops answering.  Errors give the documented exit statuses."""

import json
import os

import sipdtest
from sipdtest import Peer, Sipd, check, free_udp_port, request, sipctl


def answers(port, timeout=0.5):
    peer = Peer()
    try:
        r = peer.ask(request("OPTIONS", port), port, timeout=timeout)
        return r is not None and r.status == 200
    finally:
        peer.close()


def test(binary, started):
    sipd = Sipd(binary)
    started.append(sipd)
    sipd.start()
    port = free_udp_port()
    addr = "127.0.0.1:%d" % port
    check(not answers(port, 0.2), "port %d answers before" % port)

    p = sipctl(sipd, "listener", "add", "udp", addr)
    check(p.returncode == 0, "add: %d %r" % (p.returncode, p.stderr))
    check(answers(port), "the new listener does not answer OPTIONS")

    p = sipctl(sipd, "-j", "listener", "list")
    check(p.returncode == 0, "list -j: %r" % p.stderr)
    reply = json.loads(p.stdout.strip().splitlines()[-1])
    check(reply["ok"] is True and reply["id"] >= 1, "reply %r" % reply)
    addrs = [(l["transport"], l["address"]) for l in reply["data"]]
    check(("udp", addr) in addrs, "list lacks %s: %r" % (addr, addrs))

    p = sipctl(sipd, "lis", "l")   # abbreviated: listener list
    check(p.returncode == 0 and addr in p.stdout and "transport" in
          p.stdout, "lis l: %r" % p.stdout)
    p = sipctl(sipd, "li", "l")    # listener list or limits line?
    check(p.returncode == 2 and "ambiguous command 'li'" in p.stderr,
          "li l: %d %r" % (p.returncode, p.stderr))

    with open(sipd.conf_path) as f:
        saved = f.read()
    check("listener add udp %s" % addr in saved, "not saved: %r" % saved)
    check(os.path.exists(sipd.conf_path + ".bak"), "no .bak file")

    # the same listener again: exists, exit 1
    p = sipctl(sipd, "listener", "add", "udp", addr)
    check(p.returncode == 1 and "already configured" in p.stderr and
          "(exists)" in p.stderr, "duplicate: %d %r" % (p.returncode,
                                                        p.stderr))
    # a bad address: invalid, exit 1 (checked by sipd)
    p = sipctl(sipd, "listener", "add", "udp", "nowhere")
    check(p.returncode == 1 and "bad address" in p.stderr,
          "bad address: %d %r" % (p.returncode, p.stderr))
    # syntax errors are sipctl's: exit 2 without asking sipd
    for args, want in ((["listener", "frob"], "unknown command"),
                       (["l"], "ambiguous command 'l'"),
                       (["listener", "add", "udp"], "missing address"),
                       (["set", "t1", "many"], "bad number 'many'")):
        p = sipctl(sipd, *args)
        check(p.returncode == 2 and want in p.stderr,
              "%r: %d %r" % (args, p.returncode, p.stderr))

    p = sipctl(sipd, "listener", "remove", "udp", addr)
    check(p.returncode == 0, "remove: %r" % p.stderr)
    check(not answers(port, 0.5), "removed listener still answers")
    check(answers(sipd.port), "the first listener stopped answering")
    p = sipctl(sipd, "listener", "remove", "udp", addr)
    check(p.returncode == 1 and "not-found" in p.stderr, "remove twice")
    p = sipctl(sipd, "listener", "remove", "udp", "127.0.0.1:%d" %
               sipd.port)
    check(p.returncode == 1 and "last listener" in p.stderr,
          "removing the last listener: %r" % p.stderr)

    # sipd unreachable: exit 3
    p = subprocess_sipctl_missing(sipd)
    check(p.returncode == 3 and "cannot connect" in p.stderr,
          "unreachable: %d %r" % (p.returncode, p.stderr))
    sipdtest.stop_clean(sipd)


def subprocess_sipctl_missing(sipd):
    import subprocess
    return subprocess.run([sipdtest.sipctl_binary(), "-s",
                           sipd.sock_path + ".none", "status"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=10)


sipdtest.run(test)

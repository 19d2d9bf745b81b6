"""A second sipd cannot join the port of a running one.

The workers share each listening address with SO_REUSEPORT, which lets
any process of the same user bind it too: the kernel would then split the
traffic between the two daemons.  sipd.8: a listener that cannot be opened
fails the start.  So:

- a second sipd whose configuration names the first one's UDP address, or
  its TCP address, exits 1 with "cannot listen on PROTO ADDR" (each on its
  own: nothing else is shared);
- on a running sipd, "listener add" of an address another sipd holds
  (UDP, then TCP) fails, sipctl exits 1 and the listener is not added;
- afterwards each daemon answers every request sent to its own address,
  none lost to the other.
"""

import json
import socket
import subprocess
import time

import sipdtest
from sipdtest import Peer, Sipd, check, request, sipctl


def second_start(binary, first, listener):
    """Start another sipd (own socket, store, pid file) listening on
    listener; return (exit status, stderr).  A daemon that keeps running
    is stopped and counts as a failure of the check (exit None)."""
    other = Sipd(binary, clients=False)
    other.write_conf()
    with open(other.conf_path, "w") as f:
        f.write("%s\nset processors 2\nset reg-store %s/reg.db\n" %
                (listener, other.dir.name))
    proc = subprocess.Popen([binary, "-f", "-c", other.conf_path, "-s",
                             other.sock_path],
                            stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        _, err = proc.communicate(timeout=5)
        return proc.returncode, err.decode("utf-8", "replace")
    except subprocess.TimeoutExpired:
        proc.terminate()
        _, err = proc.communicate(timeout=5)
        return None, err.decode("utf-8", "replace")
    finally:
        other.cleanup()


def tcp_options(port):
    """One OPTIONS over a new TCP connection; the status or None."""
    with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
        s.sendall(request("OPTIONS", port).replace(b"SIP/2.0/UDP",
                                                   b"SIP/2.0/TCP"))
        data = b""
        for _ in range(50):
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            data += chunk
            if b"\r\n\r\n" in data:
                break
    if not data.startswith(b"SIP/2.0 "):
        return None
    return int(data.split(b" ", 2)[1])


def all_answered(port, what, n=20):
    peer = Peer()
    try:
        for i in range(n):
            r = peer.ask(request("OPTIONS", port), port)
            check(r is not None and r.status == 200,
                  "%s: request %d got %r" % (what, i, r))
    finally:
        peer.close()


def listeners(sipd):
    p = sipctl(sipd, "-j", "listener", "list")
    check(p.returncode == 0, "listener list: %r" % p.stderr)
    return p.stdout


def test(binary, started):
    tcp_port = sipdtest.free_udp_port()
    first = Sipd(binary, clients=False,
                 conf="set processors 2\nlistener add tcp 127.0.0.1:%d" %
                 tcp_port)
    started.append(first)
    first.start()
    check(tcp_options(tcp_port) == 200, "first sipd does not answer TCP")

    # a second daemon on the first one's UDP address
    rc, err = second_start(binary, first,
                           "listener add udp 127.0.0.1:%d" % first.port)
    check(rc == 1, "second sipd on udp 127.0.0.1:%d: exit %r\n%s" %
          (first.port, rc, err))
    check("cannot listen on udp 127.0.0.1:%d" % first.port in err,
          "second sipd, udp: %r" % err[-400:])
    # and on its TCP address
    rc, err = second_start(binary, first,
                           "listener add tcp 127.0.0.1:%d" % tcp_port)
    check(rc == 1, "second sipd on tcp 127.0.0.1:%d: exit %r\n%s" %
          (tcp_port, rc, err))
    check("cannot listen on tcp 127.0.0.1:%d" % tcp_port in err,
          "second sipd, tcp: %r" % err[-400:])
    all_answered(first.port, "first sipd after the second starts")

    # at run time: the first sipd asked to add the address of another
    third = Sipd(binary, clients=False,
                 conf="listener add tcp 127.0.0.1:%d" %
                 sipdtest.free_udp_port())
    started.append(third)
    third.start()
    third_tcp = int(open(third.conf_path).read().split(
        "listener add tcp 127.0.0.1:")[1].split()[0])
    for proto, port in (("udp", third.port), ("tcp", third_tcp)):
        addr = "127.0.0.1:%d" % port
        p = sipctl(first, "listener", "add", proto, addr)
        check(p.returncode == 1, "listener add %s %s on the first sipd: "
              "exit %d %r" % (proto, addr, p.returncode, p.stdout))
        check("cannot listen on %s %s" % (proto, addr) in p.stderr,
              "listener add %s %s: %r" % (proto, addr, p.stderr))
        lst = json.loads(listeners(first).splitlines()[-1])
        check(addr not in json.dumps(lst), "listener %s %s was added: %r" %
              (proto, addr, lst))
    all_answered(third.port, "third sipd after the refused add")
    check(tcp_options(third_tcp) == 200, "third sipd does not answer TCP")
    all_answered(first.port, "first sipd after the refused add")
    for s in (first, third):
        sipdtest.stop_clean(s)


sipdtest.run(test)

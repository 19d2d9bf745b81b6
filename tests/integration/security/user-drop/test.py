"""sipd started as root drops root before it reads a packet (sipd.8):
"sipd -u nobody", and "set user nobody" in the file.

- Every thread of the running sipd (/proc/PID/task/*/status) has real,
  effective, saved and file-system uid and gid 65534 and no other group.
- SIP still works: OPTIONS is answered, a REGISTER with digest
  credentials gets 200 and is listed (the store is written as nobody).
- sipctl still works as root: a change is applied and saved to the file
  (given to nobody, as sipd.8 says it must be).
- A listener on a port below 1024 added at run time fails with a reply
  that names CAP_NET_BIND_SERVICE, and sipd keeps running.
- An unknown user is refused at start ("sipd -t" and -u): exit 1,
  "unknown user".

Needs root (exit 77 otherwise).
"""

import os
import pwd
import subprocess

import sipdtest
import sipreg
from sipdtest import Sipd, Skip, check, sipctl
from sipua import UA


def ids(pid):
    """{task: (Uid, Gid, Groups)} of every thread of pid."""
    out = {}
    for task in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/status" % (pid, task)) as f:
            st = dict(line.split(":", 1) for line in f if ":" in line)
        out[task] = (st["Uid"].split(), st["Gid"].split(),
                     st["Groups"].split())
    return out


class DropSipd(Sipd):
    """sipd started by root with -u USER (through a wrapper that execs
    it, so its pid is sipd's); its directory and file belong to USER."""

    def __init__(self, binary, user, **kw):
        super().__init__(binary, **kw)
        self.pw = pwd.getpwnam(user)
        wrapper = os.path.join(self.dir.name, "sipd-as")
        with open(wrapper, "w") as f:
            f.write("#!/bin/sh\nexec %s -u %s \"$@\"\n" % (binary, user))
        os.chmod(wrapper, 0o755)
        self.binary = wrapper

    def write_conf(self):
        super().write_conf()
        os.chown(self.conf_path, self.pw.pw_uid, self.pw.pw_gid)
        os.chown(self.dir.name, self.pw.pw_uid, self.pw.pw_gid)
        os.chmod(self.dir.name, 0o755)


def check_ids(pid, uid, gid, threads):
    t = ids(pid)
    check(len(t) >= threads, "%d threads, expected %d" % (len(t), threads))
    for task, (u, g, groups) in t.items():
        check(u == [str(uid)] * 4 and g == [str(gid)] * 4 and
              groups == [str(gid)], "thread %s: Uid %r Gid %r Groups %r" %
              (task, u, g, groups))


def test(binary, started):
    if os.geteuid() != 0:
        raise Skip("not root")
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        raise Skip("no user nobody")
    uid, gid = nobody.pw_uid, nobody.pw_gid

    sipd = DropSipd(binary, "nobody", conf="set processors 2\n"
                    "domain add example.com\n"
                    "account add alice@example.com password alice-pw\n")
    started.append(sipd)
    sipd.start()
    check_ids(sipd.proc.pid, uid, gid, 3)
    check(sipd.wait_log("running as user nobody"), "no log line")

    ua = UA()
    try:
        reg = sipreg.RegClient(ua, sipd.port, "alice", "alice-pw")
        r = reg.register([reg.contact()], expires=600)
        check(r.status == 200, "REGISTER as nobody: %d" % r.status)
    finally:
        ua.close()
    check(len(sipreg.registrations(sipd, "alice@example.com")) == 1,
          "the binding is not listed")
    check("sqlite" not in sipd.log(), "the store failed as nobody")

    p = sipctl(sipd, "set", "t1", "600")
    check(p.returncode == 0, "set t1 as root: %d %r" % (p.returncode,
                                                       p.stderr))
    with open(sipd.conf_path) as f:
        check("set t1 600\n" in f.read(), "the change is not saved")

    with open("/proc/sys/net/ipv4/ip_unprivileged_port_start") as f:
        low = int(f.read()) - 1
    if low > 0:
        p = sipctl(sipd, "listener", "add", "udp", "127.0.0.1:%d" % low)
        check(p.returncode == 1 and "CAP_NET_BIND_SERVICE" in p.stderr,
              "privileged listener: %d %r" % (p.returncode, p.stderr))
    p = sipctl(sipd, "listener", "list")
    check(p.returncode == 0 and ":%d" % low not in p.stdout,
          "listeners after the failure: %r" % p.stdout)
    check_ids(sipd.proc.pid, uid, gid, 3)
    sipdtest.stop_clean(sipd)

    # the setting, not the option
    second = Sipd(binary, conf="set user nobody\n")
    started.append(second)
    os.chmod(second.dir.name, 0o777)
    second.start()
    check_ids(second.proc.pid, uid, gid, 2)
    check(sipctl(second, "status").returncode == 0, "sipctl, set user")
    sipdtest.stop_clean(second)

    bad = os.path.join(second.dir.name, "bad.conf")
    with open(bad, "w") as f:
        f.write("set user no-such-user-here\n")
    p = subprocess.run([binary, "-t", "-c", bad], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=10)
    check(p.returncode == 1 and "unknown user" in p.stderr,
          "set user unknown: %d %r" % (p.returncode, p.stderr))
    p = subprocess.run([binary, "-t", "-u", "no-such-user-here", "-c",
                        second.conf_path], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=10)
    check(p.returncode == 1 and "unknown user" in p.stderr,
          "-u unknown: %d %r" % (p.returncode, p.stderr))


sipdtest.run(test)

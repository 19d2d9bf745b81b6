"""Saving keeps the administrator's file: sipd starts from the shipped
sipd/sipd.conf (ports and store moved to this test's own), and sipctl
edits write back only what they change.

- Adding, changing and removing a listener, a setting, an account and a
  client range changes exactly those lines: every comment, blank line
  and other line stays byte for byte, new lines go after the last line
  of their kind, and undoing every change gives the original file back.
- "show config diff" shows what saving would change; with "config
  autosave off" a change leaves the file alone until "config save".
- A save that cannot be written (a directory where sipd.conf.bak goes)
  fails the command with "applied, but not saved" and leaves the file as
  it was.
- Lines that give a password in the clear become one line of digests."""

import hashlib
import os
import shutil
import stat

import sipdtest
from sipdtest import Sipd, check, free_udp_port, sipctl

SHIPPED = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                       "..", "..", "..", "..", "sipd", "sipd.conf")


class ShippedSipd(Sipd):
    """sipd on a copy of the shipped file, on free ports."""

    def write_conf(self):
        port = free_udp_port()
        self.ports = [port]
        with open(SHIPPED) as f:
            text = f.read()
        text = text.replace("127.0.0.1:5060", "127.0.0.1:%d" % port)
        text += "set reg-store %s\n" % os.path.join(self.dir.name,
                                                    "registrations.db")
        text += getattr(self, "extra", "")
        with open(self.conf_path, "w") as f:
            f.write(text)
        self.original = text


def ok(sipd, *args):
    p = sipctl(sipd, *args)
    check(p.returncode == 0, "%s: %d %r" % (args, p.returncode, p.stderr))
    return p.stdout


def text(sipd):
    with open(sipd.conf_path) as f:
        return f.read()


def lines_added_removed(before, after):
    b, a = before.splitlines(), after.splitlines()
    return ([l for l in a if l not in b], [l for l in b if l not in a])


def test(binary, started):
    sipd = ShippedSipd(binary)
    started.append(sipd)
    sipd.start()
    orig = sipd.original
    other = free_udp_port()

    ok(sipd, "listener", "add", "udp", "127.0.0.1:%d" % other)
    ok(sipd, "set", "t1", "600")
    ok(sipd, "account", "add", "carol@example.com", "password", "c-pw")
    ok(sipd, "client-ip", "remove", "::1/128")
    ok(sipd, "limits", "line", "9000")
    now = text(sipd)
    added, removed = lines_added_removed(orig, now)
    check(removed == ["client-ip add ::1/128", "limits line 8192"],
          "removed: %r" % removed)
    check(len(added) == 4 and
          added[0] == "listener add udp 127.0.0.1:%d" % other and
          added[1].startswith("account add carol@example.com ha1-md5 ") and
          added[2] == "limits line 9000" and added[3] == "set t1 600",
          "added: %r" % added)
    # every comment and blank line of the shipped file is still there,
    # in order
    comments = [l for l in orig.splitlines() if l.startswith("#") or not l]
    check([l for l in now.splitlines() if l.startswith("#") or not l] ==
          comments, "comments or blank lines lost")
    # new lines sit with their kind: the listener after the listeners
    lines = now.splitlines()
    i = lines.index("listener add udp 127.0.0.1:%d" % other)
    check(lines[i - 1].startswith("listener add tcp "),
          "listener placed after %r" % lines[i - 1])
    check(lines[lines.index("limits line 9000") - 1] ==
          "limits headers 256", "limits line not in place")
    check(os.path.exists(sipd.conf_path + ".bak"), "no .bak kept")
    check(stat.S_IMODE(os.stat(sipd.conf_path).st_mode) == 0o600,
          "mode %o: the file holds digests" %
          stat.S_IMODE(os.stat(sipd.conf_path).st_mode))

    # undo everything: the shipped text comes back byte for byte
    ok(sipd, "listener", "remove", "udp", "127.0.0.1:%d" % other)
    ok(sipd, "set", "t1", "500")
    ok(sipd, "account", "remove", "carol@example.com")
    ok(sipd, "client-ip", "add", "::1/128")
    ok(sipd, "limits", "line", "8192")
    now = text(sipd)
    # the shipped text comes back byte for byte, but for the one line
    # that the file did not have: a setting written stays written, at
    # its default now ("set t1 500")
    check(now == orig + "set t1 500\n", "not the original again:\n%s" %
          now)

    # autosave off: the file waits for "config save"; diff shows it
    base = now
    ok(sipd, "config", "autosave", "off")
    check(text(sipd) == base, "autosave off was saved")
    ok(sipd, "set", "t2", "4500")
    check(text(sipd) == base, "a change saved with autosave off")
    diff = ok(sipd, "show", "config", "diff")
    check("+set t2 4500" in diff.splitlines() and
          "+config autosave off" in diff.splitlines() and
          not any(l.startswith("-") for l in diff.splitlines()),
          "diff: %r" % diff)
    ok(sipd, "config", "save")
    added, removed = lines_added_removed(base, text(sipd))
    check(added == ["set t2 4500", "config autosave off"] and
          removed == [], "after config save: %r %r" % (added, removed))
    check(ok(sipd, "show", "config", "diff") == "", "diff after save")

    # a save that cannot be written (the previous version cannot be
    # kept: a directory stands where sipd.conf.bak goes, which stops
    # root too): the command says so, the file stays
    ok(sipd, "config", "autosave", "on")
    saved = text(sipd)
    os.unlink(sipd.conf_path + ".bak")
    os.mkdir(sipd.conf_path + ".bak")
    with open(os.path.join(sipd.conf_path + ".bak", "x"), "w") as f:
        f.write("x")
    p = sipctl(sipd, "set", "t4", "6000")
    check(p.returncode == 1 and "applied, but not saved" in p.stderr,
          "blocked save: %d %r" % (p.returncode, p.stderr))
    check(text(sipd) == saved, "file changed on a failed save")
    check(not [n for n in os.listdir(sipd.dir.name)
               if n.startswith("sipd.conf.") and n != "sipd.conf.bak"],
          "temporary file left: %r" % os.listdir(sipd.dir.name))
    shutil.rmtree(sipd.conf_path + ".bak")
    ok(sipd, "config", "save")
    check("set t4 6000" in text(sipd).splitlines(), "saved after")
    sipdtest.stop_clean(sipd)

    # passwords in the clear: the account's lines become one line of
    # digests at the first save, the last password given winning; the
    # rest of the file is untouched
    sipd = ShippedSipd(binary)
    sipd.extra = ("account add dave@example.com password d-one  # dave\n"
                  "account password dave@example.com d-two\n")
    started.append(sipd)
    sipd.start()
    ok(sipd, "set", "t2", "4200")
    added, removed = lines_added_removed(sipd.original, text(sipd))
    md5 = hashlib.md5(b"dave:example.com:d-two").hexdigest()
    check(removed == sipd.extra.splitlines(), "removed: %r" % removed)
    # (set t2 goes after the last set line, the store's)
    check(len(added) == 2 and added[0] == "set t2 4200" and
          added[1].startswith("account add dave@example.com ha1-md5 %s "
                              "ha1-sha256 " % md5) and
          added[1].endswith("  # dave"), "added: %r" % added)
    check("d-one" not in text(sipd) and "d-two" not in text(sipd),
          "a password left in the clear")
    sipdtest.stop_clean(sipd)


sipdtest.run(test)

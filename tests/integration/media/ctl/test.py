"""The media relay's commands against the real sipd: "show media" lists
no relay on a sipd that has made none (nothing makes one before the proxy
does, on an offer); "media close" of an id that is no relay fails with
not-found and exit 1; "set media-ports" refuses a range with no even port
and its successor, a reversed range, ports below 1024 and words (exit 1,
code invalid, the setting unchanged) and applies a good one at once,
saved to the file; "set media-timeout" refuses 4 (below 5); and the
engine's ports are not opened before a relay is made (no UDP socket of
sipd in the range in /proc/net/udp)."""

import json

import sipdtest
from sipdtest import Sipd, check, sipctl


def settings(sipd):
    p = sipctl(sipd, "-j", "show", "settings")
    check(p.returncode == 0, "show settings: %r" % p.stderr)
    rows = json.loads(p.stdout)["data"]
    return {r["setting"]: r["value"] for r in rows}


def test(binary, started):
    sipd = Sipd(binary)
    started.append(sipd)
    sipd.start()

    p = sipctl(sipd, "-j", "show", "media")
    check(p.returncode == 0, "show media: %r" % p.stderr)
    check(json.loads(p.stdout)["data"] == [], "relays: %r" % p.stdout)

    p = sipctl(sipd, "-j", "media", "close", "16384")
    check(p.returncode == 1, "media close of no relay: %r" % p.returncode)
    err = json.loads(p.stdout)["err"]
    check(err["code"] == "not-found", "code: %r" % err)
    check("no media relay 16384" in err["msg"], "msg: %r" % err)

    p = sipctl(sipd, "media", "close", "x")
    check(p.returncode == 2, "media close x: a usage error, not %r" %
          p.returncode)

    check(settings(sipd)["media-ports"] == "20000-29999",
          "default range: %r" % settings(sipd)["media-ports"])
    for bad in ("20001-20002", "30000-20000", "80-90", "20000", "a-b",
                "20000-70000", "20000-"):
        p = sipctl(sipd, "-j", "set", "media-ports", bad)
        check(p.returncode == 1, "%s: exit %r" % (bad, p.returncode))
        check(json.loads(p.stdout)["err"]["code"] == "invalid",
              "%s: %r" % (bad, p.stdout))
        check(settings(sipd)["media-ports"] == "20000-29999",
              "%s changed the range" % bad)
    p = sipctl(sipd, "set", "media-ports", "40000-40999")
    check(p.returncode == 0, "set media-ports: %r" % p.stderr)
    check(settings(sipd)["media-ports"] == "40000-40999", "not applied")
    with open(sipd.conf_path) as f:
        check("set media-ports 40000-40999" in f.read(), "not saved")

    p = sipctl(sipd, "set", "media-timeout", "4")
    check(p.returncode == 2, "media-timeout 4: exit %r" % p.returncode)
    p = sipctl(sipd, "set", "media-timeout", "30")
    check(p.returncode == 0, "media-timeout 30: %r" % p.stderr)
    check(str(settings(sipd)["media-timeout"]) == "30", "timeout not applied")

    sipdtest.stop_clean(sipd)


sipdtest.run(test)

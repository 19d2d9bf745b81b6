"""What the gateway cases share: a provider stand-in (sipp running a
scenario of this folder on 127.0.0.2, its messages traced), sipd with
gateways, and sipctl -j readings."""

import json
import os
import re
import time

import sipdtest
from sipdtest import check
from sipua import Sipp, free_port, sipp_trace

HERE = os.path.dirname(os.path.abspath(__file__))


class Provider:
    """sipp on 127.0.0.2 running scenario (a file of this folder) for
    calls calls, with -set NAME VALUE for each of sets."""

    def __init__(self, workdir, name, scenario, calls, sets=(),
                 host="127.0.0.2", port=None, transport="u1"):
        self.host = host
        self.port = port or free_port(host)
        self.trace_path = os.path.join(workdir, name + ".msgs")
        # a scenario of this folder, or sipp's own ("sn:uas")
        where = (["-sn", scenario[3:]] if scenario.startswith("sn:")
                 else ["-sf", os.path.join(HERE, scenario)])
        args = where + ["-t", transport, "-i", host,
                "-p", str(self.port), "-m", str(calls), "-trace_msg",
                "-message_file", self.trace_path,
                # a refresh has the Call-ID of the call before: a new
                # call for this scenario, not a dead one
                "-deadcall_wait", "1"]
        for k, v in sets:
            args += ["-set", k, str(v)]
        self.sipp = Sipp(workdir, name, args)
        time.sleep(0.2)

    def received(self, method=None):
        """The requests sipp received so far (of method)."""
        return [m for way, m in sipp_trace(self.trace_path)
                if way == "received" and m.is_request() and
                (method is None or m.method == method)]

    def wait_requests(self, method, n, timeout):
        """At least n requests of method received, within timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.received(method)
            if len(got) >= n:
                return got
            time.sleep(0.1)
        got = self.received(method)
        check(len(got) >= n, "the provider received %d %s, not %d, in "
              "%d s" % (len(got), method, n, timeout))
        return got

    def stop(self):
        self.sipp.kill()


def show(sipd):
    """`sipctl -j show gateways` as {name: row}."""
    p = sipdtest.sipctl(sipd, "-j", "show", "gateways")
    check(p.returncode == 0, "show gateways: %s %s" % (p.stdout, p.stderr))
    return {r["name"]: r for r in json.loads(p.stdout)["data"]}


def wait_state(sipd, name, states, timeout):
    """The gateway's row once its state is one of states."""
    deadline = time.monotonic() + timeout
    row = None
    while time.monotonic() < deadline:
        row = show(sipd).get(name)
        if row is not None and row["state"] in states:
            return row
        time.sleep(0.1)
    check(False, "gateway %s is %s, not %s, after %d s" % (
        name, row and row["state"], "/".join(states), timeout))


def auth_params(value):
    """The parameters of a Digest credentials value as a dict."""
    return {k.lower(): v.strip('"') for k, v in re.findall(
        r'(\w+)=("[^"]*"|[^\s,]+)', value)}

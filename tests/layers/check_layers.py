"""The layers keep their order: a file includes only headers of its own
folder or of a library its folder's library links, directly or through
another (the CMake link graph is the order, DESIGN.md), and never
another folder's private header (*_int.h).

Usage: check_layers.py TOP.  Reads every target_link_libraries() of
sipd/ and proto/ and every #include "..." line under sipd/; prints each
include that reaches above its layer and exits 1, or prints a summary
and exits 0.  The documented exceptions below name the reason: each must
still hold (it uses only types, or functions resolved as the comment
says), and one that no longer matches any include is itself an error,
so the list cannot go stale."""

import os
import re
import sys

# folder (under sipd/) -> its library; top-level headers by name
FOLDER_LIB = {
    "msg": "sipd_msg", "transport": "sipd_tp", "txn": "sipd_txn",
    "core": "sipd_core", "ctl": "sipd_ctl", "reg": "sipd_reg",
    "auth": "sipd_auth", "acct": "sipd_acct", "dns": "sipd_dns",
    "wk": "sipd_wk",
    "media": "sipd_media",
    "router": "sipd_rtr",
    "cdr": "sipd_cdr",
    "mwi": "sipd_mwi",
}
HEADER_LIB = {
    "sipd/log.h": "sipd_log",
    "sipd/conf.h": "sipd",      # the executable's configuration
    "sipd/worker.h": "sipd",    # the executable's threads
}

# (folder, header): why the include is allowed although the folder's
# library does not link the header's.
EXCEPTIONS = {
    ("txn", "sipd/transport/tp.h"):
        "the source address type (struct tp_src) only: txn sends through "
        "the callback its owner registers and calls no tp_ function",
    ("core", "sipd/conf.h"):
        "the configuration's structures, read by core_configure(); no "
        "conf_ function is called from core",
    ("ctl", "sipd/conf.h"):
        "the handlers apply and save the configuration; conf_*() is "
        "resolved by the executable, which links ctl",
    ("ctl", "sipd/worker.h"):
        "the handlers reach the workers; workers_*() is resolved by the "
        "executable, which links ctl",
}

# For a type-only exception: no call of a function of that prefix may
# resolve to the higher layer (a call to a function the lower layer
# defines itself is fine).
TYPE_ONLY = {
    ("txn", "sipd/transport/tp.h"): ("tp_", "sipd/transport"),
    ("core", "sipd/conf.h"): ("conf_", "sipd/conf.c"),
}

LINK_RE = re.compile(r"target_link_libraries\(\s*(\S+)(.*?)\)", re.S)
INCLUDE_RE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
CALL_RE = r"\b(%s[a-z0-9_]*)\s*\("
DEF_RE = r"^(%s[a-z0-9_]*)\("


def link_graph(top):
    graph = {}
    for base in ("sipd", "proto"):
        for root, _, files in os.walk(os.path.join(top, base)):
            if "CMakeLists.txt" not in files:
                continue
            with open(os.path.join(root, "CMakeLists.txt")) as f:
                text = f.read()
            for m in LINK_RE.finditer(text):
                words = [w for w in m.group(2).split()
                         if w not in ("PUBLIC", "PRIVATE", "INTERFACE")]
                graph.setdefault(m.group(1), set()).update(words)
    return graph


def reaches(graph, lib, seen=None):
    """Every library lib links, directly or not."""
    seen = set() if seen is None else seen
    for dep in graph.get(lib, ()):
        if dep not in seen:
            seen.add(dep)
            reaches(graph, dep, seen)
    return seen


def header_lib(header):
    if header in HEADER_LIB:
        return HEADER_LIB[header]
    parts = header.split("/")
    if len(parts) >= 3 and parts[0] == "sipd":
        return FOLDER_LIB.get(parts[1])
    if parts[0] == "proto":
        return "sipproto"
    return None


def sources(top, folder):
    d = os.path.join(top, "sipd", folder)
    for name in sorted(os.listdir(d)):
        if name.endswith((".c", ".h")):
            yield os.path.join(d, name)


def defined(top, where, prefix):
    """Functions named prefix* defined in the file or folder where."""
    path = os.path.join(top, where)
    files = [path] if os.path.isfile(path) else [
        os.path.join(path, n) for n in os.listdir(path) if n.endswith(".c")]
    names = set()
    for p in files:
        with open(p) as f:
            names.update(re.findall(DEF_RE % prefix, f.read(), re.M))
    return names


def main():
    top = sys.argv[1]
    graph = link_graph(top)
    faults, used = [], set()
    for name in sorted(os.listdir(os.path.join(top, "sipd"))):
        d = os.path.join(top, "sipd", name)
        if os.path.isdir(d) and name not in FOLDER_LIB and \
                any(n.endswith(".c") for n in os.listdir(d)):
            faults.append("sipd/%s/ is in no layer: add it to FOLDER_LIB "
                          "in %s" % (name, os.path.relpath(__file__, top)))
    count = 0
    for folder, lib in sorted(FOLDER_LIB.items()):
        allowed = reaches(graph, lib) | {lib}
        own_defs = set()
        for path in sources(top, folder):
            with open(path) as f:
                text = f.read()
            own_defs.update(re.findall(r"^([a-z_][a-z0-9_]*)\(", text, re.M))
        for path in sources(top, folder):
            with open(path) as f:
                text = f.read()
            rel = os.path.relpath(path, top)
            for header in INCLUDE_RE.findall(text):
                count += 1
                parts = header.split("/")
                if len(parts) == 3 and parts[0] == "sipd" and \
                        parts[1] != folder and parts[2].endswith("_int.h"):
                    faults.append("%s includes %s, private to sipd/%s/" %
                                  (rel, header, parts[1]))
                hlib = header_lib(header)
                if hlib is None or hlib in allowed or \
                        header.startswith("sipd/%s/" % folder):
                    continue
                key = (folder, header)
                if key not in EXCEPTIONS:
                    faults.append("%s includes %s, but %s does not link "
                                  "%s" % (rel, header, lib, hlib))
                    continue
                used.add(key)
        # a type-only include reaches every file of the folder through
        # its headers: none of them may call the higher layer
        for key in [k for k in TYPE_ONLY if k[0] == folder and k in used]:
            prefix, where = TYPE_ONLY[key]
            higher = defined(top, where, prefix)
            for path in sources(top, folder):
                with open(path) as f:
                    text = f.read()
                for name in sorted(set(re.findall(CALL_RE % prefix, text))):
                    if name in higher and name not in own_defs:
                        faults.append(
                            "%s calls %s() of %s: the include of %s was "
                            "to be for types only" %
                            (os.path.relpath(path, top), name, where,
                             key[1]))
    for key in sorted(set(EXCEPTIONS) - used):
        faults.append("the exception for %s including %s matches no "
                      "include any more: remove it" % key)
    if faults:
        print("\n".join(faults))
        print("%d includes read, %d above their layer" %
              (count, len(faults)))
        sys.exit(1)
    print("%d includes read in %d folders, none above its layer "
          "(%d documented exceptions)" %
          (count, len(FOLDER_LIB), len(used)))


if __name__ == "__main__":
    main()

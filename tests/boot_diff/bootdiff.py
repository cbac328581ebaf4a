#!/usr/bin/env python3
"""bootdiff: qtune's boot replay against the real boot tools.

Generates seeded random sysctl.d trees (every rule of sysctl.d(5) and each
mismatch class of issue 16), runs the real /lib/systemd/systemd-sysctl and
procps `sysctl --system` on each, in a fresh network namespace and a private
mount namespace where the tree is bind-mounted over /etc/sysctl.d,
/run/sysctl.d, /usr/local/lib/sysctl.d, /usr/lib/sysctl.d (= /lib/sysctl.d
on merged /usr) and /etc/sysctl.conf, reads back /proc/sys, and compares
with what `qtune --root TREE --json check PROFILE` predicts for each tool.

Only per-namespace net.* keys are ever named: each one is checked to exist
in a fresh namespace, every glob the generator uses is expanded there and
must stay inside that set, and the namespace is checked to be a new one
before a tool runs. Nothing here writes the machine's own keys.

    bootdiff.py --qtune build/qtune [--seed S] [--count N] [--report-only] [--only CLASS,...]
                [--keep DIR] [--fixtures tests/fixtures/sysctld] [-v]

Exit status: 0 when every comparison agrees, 1 on a mismatch (0 with
--report-only), 2 when the run itself cannot be made.
"""

import argparse
import ctypes
import glob as globmod
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile

SYSTEMD_SYSCTL = "/lib/systemd/systemd-sysctl"
PROCPS_SYSCTL = "/sbin/sysctl"
TOOLS = ("systemd", "procps")

# The directories both tools read, as the tree holds them. /lib/sysctl.d
# is /usr/lib/sysctl.d on this (merged /usr) system: the tree has the same
# lib -> usr/lib link, so qtune sees what the tools see.
TREE_DIRS = ("etc/sysctl.d", "run/sysctl.d", "usr/local/lib/sysctl.d", "usr/lib/sysctl.d")

# ---- the keys: per-namespace net.* only ----

# dotted name -> (kind, kernel range) ; kind "int" for the kernel's
# integer handlers. Ranges are what the kernel accepts (probed on 6.18).
I32 = (-(2**31), 2**31 - 1)
KEYS = {
    "net.core.somaxconn": (0, 2**31 - 1),
    "net.ipv4.tcp_max_syn_backlog": I32,
    "net.ipv4.tcp_syncookies": (0, 255),
    "net.ipv4.tcp_abort_on_overflow": (0, 255),
    "net.ipv4.tcp_synack_retries": (0, 255),
    "net.ipv4.tcp_syn_retries": (1, 127),
    "net.ipv4.tcp_tw_reuse": (0, 2),
    "net.ipv4.tcp_fin_timeout": (-(2**31 // 250), 2**31 // 250),   # jiffies at HZ = 250
    "net.ipv4.ip_local_port_range": None,
    "net.unix.max_dgram_qlen": I32,
}
IFACES = ("all", "default", "lo")
for _i in IFACES:
    KEYS["net.ipv4.conf.%s.rp_filter" % _i] = I32
    KEYS["net.ipv4.conf.%s.log_martians" % _i] = I32
    KEYS["net.ipv6.conf.%s.hop_limit" % _i] = (1, 255)

# Writing net.ipv4.conf.default.X copies X to every interface whose X was
# never written (devinet_copy_dflt_conf): a kernel side effect, not a rule
# of sysctl.d, so IPv4's lo keys are written but not compared. IPv6 and
# IPv4's "all" copy nothing (checked on 6.18).
UNCOMPARED = {"net.ipv4.conf.lo.%s" % leaf for leaf in ("rp_filter", "log_martians")}
COMPARED = [k for k in KEYS if k not in UNCOMPARED]

# Keys qtune's own table knows (it parses their values as the kernel does).
KNOWN_INT = ("net.core.somaxconn", "net.ipv4.tcp_max_syn_backlog", "net.ipv4.tcp_syncookies",
             "net.ipv4.tcp_abort_on_overflow", "net.ipv4.tcp_synack_retries",
             "net.ipv4.tcp_syn_retries", "net.ipv4.tcp_tw_reuse", "net.ipv4.tcp_fin_timeout")
PERIF_LEAVES = {"net.ipv4.conf": ("rp_filter", "log_martians"), "net.ipv6.conf": ("hop_limit",)}

# Every glob the generator may write, checked at start-up to expand only
# into KEYS in a fresh namespace.
GLOBS = []
for _pre, _leaves in PERIF_LEAVES.items():
    for _leaf in _leaves:
        for _pat in ("*", "l*", "[ad]*", "?o", "a*", "d*", "*l*"):
            GLOBS.append("%s.%s.%s" % (_pre, _pat, _leaf))
GLOBS += ["net.ipv4.tcp_syn*_retries", "net.ipv4.tcp_syn?ck_retries"]

# Keys that do not exist: both tools report them and go on.
MISSING = ("net.ipv4.qtune_no_such_key", "net.core.qtune_missing", "net.ipv4.conf.eth9.rp_filter")


def slashed(key):
    """The /proc/sys path of a dotted key: dots and slashes swap (a slash
    in a dotted key is a dot in a name, as in net.ipv6.conf.lo/5.hop_limit)."""
    return key.translate(str.maketrans("./", "/."))


# Trees of the class "dotted-iface" run where lo is renamed "lo.5": keys
# spelled slash-first, or dotted with "lo/5", name an interface with a dot.
RENAMED_IF = "lo.5"


def keys_of(renamed):
    return [k.replace(".lo.", ".lo/5.") if renamed else k for k in KEYS]


def compared_of(renamed):
    return [k for k, plain in zip(keys_of(renamed), KEYS) if plain not in UNCOMPARED]


def valid_value(rng, key):
    if key == "net.ipv4.ip_local_port_range":
        return "%d %d" % (rng.randint(10000, 30000), rng.randint(40000, 60999))
    lo, hi = {
        "net.core.somaxconn": (64, 65535), "net.ipv4.tcp_max_syn_backlog": (128, 16384),
        "net.ipv4.tcp_syncookies": (0, 2), "net.ipv4.tcp_abort_on_overflow": (0, 1),
        "net.ipv4.tcp_synack_retries": (1, 9), "net.ipv4.tcp_syn_retries": (1, 9),
        "net.ipv4.tcp_tw_reuse": (0, 2), "net.ipv4.tcp_fin_timeout": (5, 120),
        "net.unix.max_dgram_qlen": (10, 999),
    }.get(key, (0, 2))
    if key.endswith("hop_limit"):
        lo, hi = 2, 254
    return str(rng.randint(lo, hi))


def refused_value(rng, key):
    """A value the kernel refuses for key."""
    choices = ["abc", "12abc", "", "+5", "5#x"]
    rng_ = KEYS.get(key)
    if rng_ and rng_[0] > -(2**31):
        choices.append(str(rng_[0] - 1))
    if rng_ and rng_[1] < 2**31 - 1:
        choices.append(str(rng_[1] + 1))
    if key == "net.ipv4.ip_local_port_range":
        choices = ["abc", "", "60000 1000"]
    return rng.choice(choices)


# ---- trees ----

class Tree:
    def __init__(self):
        self.renamed = False   # lo is "lo.5" where the tools run
        self.files = {}   # relpath -> bytes
        self.links = {}   # relpath -> target
        self.dirs = set()

    def add(self, d, name, lines, eol="\n"):
        body = eol.join(lines)
        if lines:
            body += eol
        self.files["%s/%s" % (d, name)] = body.encode("latin-1")

    def add_raw(self, d, name, data):
        self.files["%s/%s" % (d, name)] = data

    def write(self, root):
        for d in TREE_DIRS:
            os.makedirs(os.path.join(root, d), exist_ok=True)
        os.symlink("usr/lib", os.path.join(root, "lib"))
        for rel, data in self.files.items():
            p = os.path.join(root, rel)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "wb") as f:
                f.write(data)
        for rel, target in self.links.items():
            os.symlink(target, os.path.join(root, rel))
        for rel in self.dirs:
            os.makedirs(os.path.join(root, rel), exist_ok=True)

    def describe(self):
        out = []
        for rel in sorted(set(self.files) | set(self.links) | self.dirs):
            if rel in self.links:
                out.append("  /%s -> %s" % (rel, self.links[rel]))
            elif rel in self.dirs:
                out.append("  /%s/ (a directory)" % rel)
            else:
                out.append("  /%s: %r" % (rel, self.files[rel][:300]))
        return "\n".join(out)


def fname(rng):
    num = rng.choice(["10", "20", "30", "50", "60", "9", "99", "05", "70", "80"])
    word = rng.choice(["a", "b", "net", "tune", "Z", "local", "x_y", "x-y"])
    return "%s-%s.conf" % (num, word)


def spell(rng, key):
    """One of the spellings both tools read as key."""
    s = rng.random()
    if s < 0.6:
        return key
    if s < 0.85:
        return slashed(key)
    return rng.choice(["  " + key, key + "\t", slashed(key)])


def line(rng, key, value, dash=False):
    k = spell(rng, key)
    sep = rng.choice([" = ", "=", " =", "= ", "\t=\t", "  =  "])
    return "%s%s%s%s" % ("-" if dash else "", k, sep, value)


def pick(rng, pool, n):
    return rng.sample(sorted(pool), n)


def noise(rng, tree, used):
    """Lines on other keys, plain rules both tools agree on, so a class is
    never seen alone."""
    free = [k for k in KEYS if k not in used]
    for _ in range(rng.randint(0, 3)):
        k = rng.choice(free)
        d = rng.choice(TREE_DIRS)
        lines = [rng.choice(["# noise", "; noise", ""]), line(rng, k, valid_value(rng, k))]
        if rng.random() < 0.3:
            lines.append(line(rng, rng.choice(MISSING), "1"))
        tree.add(d, fname(rng).replace(".conf", "-n.conf"), lines)


# Each class generator fills tree and returns the keys it is about.

def g_precedence(rng, t):
    k = rng.choice(list(KEYS))
    n = fname(rng)
    for d in rng.sample(TREE_DIRS, rng.randint(2, 4)):
        t.add(d, n, [line(rng, k, valid_value(rng, k))])
    return [k]


def g_devnull_mask(rng, t):
    k = rng.choice(list(KEYS))
    n = fname(rng)
    dirs = sorted(rng.sample(range(len(TREE_DIRS)), 2))
    t.links["%s/%s" % (TREE_DIRS[dirs[0]], n)] = "/dev/null"
    t.add(TREE_DIRS[dirs[1]], n, [line(rng, k, valid_value(rng, k))])
    if rng.random() < 0.5:
        t.add(rng.choice(TREE_DIRS), "01-first.conf", [line(rng, k, valid_value(rng, k))])
    return [k]


def g_lexical_order(rng, t):
    k = rng.choice(list(KEYS))
    for _ in range(rng.randint(2, 5)):
        t.add(rng.choice(TREE_DIRS), fname(rng), [line(rng, k, valid_value(rng, k))])
    return [k]


def g_hidden(rng, t):
    k = rng.choice(list(KEYS))
    t.add(rng.choice(TREE_DIRS), "." + fname(rng), [line(rng, k, valid_value(rng, k))])
    if rng.random() < 0.6:
        t.add(rng.choice(TREE_DIRS), fname(rng), [line(rng, k, valid_value(rng, k))])
    return [k]


def g_not_conf(rng, t):
    k = rng.choice(list(KEYS))
    d = rng.choice(TREE_DIRS)
    t.add(d, rng.choice(["README", "x.conf.bak", "x.conf~", "x.CONF", "conf"]),
          [line(rng, k, valid_value(rng, k))])
    if rng.random() < 0.5:
        t.add(d, fname(rng), [line(rng, k, valid_value(rng, k))])
    return [k]


def g_sysctl_conf(rng, t):
    k = rng.choice(list(KEYS))
    t.files["etc/sysctl.conf"] = (line(rng, k, valid_value(rng, k)) + "\n").encode()
    if rng.random() < 0.7:
        t.links["etc/sysctl.d/99-sysctl.conf"] = "../sysctl.conf"
    for _ in range(rng.randint(0, 2)):
        t.add(rng.choice(TREE_DIRS), rng.choice(["zz-last.conf", "50-mid.conf", "99-z.conf"]),
              [line(rng, k, valid_value(rng, k))])
    return [k]


def perif_key(rng):
    pre = rng.choice(list(PERIF_LEAVES))
    leaf = rng.choice(PERIF_LEAVES[pre])
    return pre, leaf


def g_exclusion(rng, t):
    pre, leaf = perif_key(rng)
    iface = rng.choice(IFACES)
    k = "%s.%s.%s" % (pre, iface, leaf)
    glob = "%s.*.%s" % (pre, leaf)
    lines = [(line(rng, glob, valid_value(rng, k))), "-" + spell(rng, k).strip()]
    if rng.random() < 0.5:
        lines.append(line(rng, k, valid_value(rng, k)))
    rng.shuffle(lines)
    for ln in lines:
        t.add(rng.choice(TREE_DIRS), fname(rng), [ln])
    return ["%s.%s.%s" % (pre, i, leaf) for i in IFACES]


def g_glob(rng, t):
    pre, leaf = perif_key(rng)
    keys = ["%s.%s.%s" % (pre, i, leaf) for i in IFACES]
    lines = []
    for _ in range(rng.randint(1, 3)):
        pat = rng.choice(["*", "l*", "[ad]*", "?o", "*l*"])
        lines.append(line(rng, "%s.%s.%s" % (pre, pat, leaf), valid_value(rng, keys[0])))
    if rng.random() < 0.6:
        lines.append(line(rng, rng.choice(keys), valid_value(rng, keys[0])))
    if rng.random() < 0.3:
        lines.append(line(rng, "net.ipv4.tcp_syn*_retries", str(rng.randint(1, 9))))
        keys += ["net.ipv4.tcp_syn_retries", "net.ipv4.tcp_synack_retries"]
    for ln in lines:
        if rng.random() < 0.5:
            t.add(rng.choice(TREE_DIRS), fname(rng), [ln])
        else:
            t.add("usr/lib/sysctl.d", "50-globs.conf",
                  [ln] + [x for x in t.files.get("usr/lib/sysctl.d/50-globs.conf", b"")
                          .decode().split("\n") if x])
    return keys


def g_dotted_iface(rng, t):
    t.renamed = True
    keys = ["net.ipv6.conf.%s.hop_limit" % i for i in ("all", "default", "lo/5")]
    lines = []
    for _ in range(rng.randint(1, 3)):
        k = rng.choice(keys)
        v = valid_value(rng, "net.ipv6.conf.lo.hop_limit")
        lines.append(rng.choice(["%s = %s" % (k, v), "%s = %s" % (slashed(k), v),
                                 "net.ipv6.conf.lo*.hop_limit = %s" % v, "-%s" % slashed(k)]))
    lines.append("net.ipv4.conf.lo/5.rp_filter = %d" % rng.randint(0, 2))
    for ln in lines:
        t.add(rng.choice(TREE_DIRS), fname(rng), [ln])
    return keys


def g_crlf(rng, t):
    ks = pick(rng, KEYS, 2)
    t.add(rng.choice(TREE_DIRS), fname(rng), [line(rng, k, valid_value(rng, k)) for k in ks], "\r\n")
    return ks


def g_multi_field(rng, t):
    k = "net.ipv4.ip_local_port_range"
    a, b = rng.randint(10000, 30000), rng.randint(40000, 60999)
    sep = rng.choice([" ", "\t", "  ", " \t "])
    t.add(rng.choice(TREE_DIRS), fname(rng), ["%s = %s%d%s%d%s" % (
        spell(rng, k), rng.choice(["", " ", "\t"]), a, sep, b, rng.choice(["", " ", "\t"]))])
    return [k]


def g_unknown_key(rng, t):
    k = rng.choice(list(KEYS))
    lines = [line(rng, rng.choice(MISSING), "1"), "this is not an assignment",
             "# " + line(rng, k, "7"), "; " + line(rng, k, "8"), "",
             line(rng, k, valid_value(rng, k)), line(rng, rng.choice(MISSING), "2")]
    t.add(rng.choice(TREE_DIRS), fname(rng), lines)
    return [k]


def g_ignore_failure(rng, t):
    k = rng.choice(list(KEYS))
    t.add(rng.choice(TREE_DIRS), fname(rng),
          [line(rng, rng.choice(MISSING), "1", dash=True), line(rng, k, valid_value(rng, k), dash=True)])
    return [k]


def g_dangling(rng, t):
    k = rng.choice(list(KEYS))
    n = fname(rng)
    dirs = sorted(rng.sample(range(len(TREE_DIRS)), 2))
    if rng.random() < 0.5:
        t.links["%s/%s" % (TREE_DIRS[dirs[0]], n)] = "/nonexistent/qtune.conf"
    else:
        t.dirs.add("%s/%s" % (TREE_DIRS[dirs[0]], n))
    t.add(TREE_DIRS[dirs[1]], n, [line(rng, k, valid_value(rng, k))])
    return [k]


# issue 16, mismatch classes

def g_inline_comment(rng, t):
    k = rng.choice(KNOWN_INT)
    v = valid_value(rng, k)
    tail = rng.choice([" # raised for nginx", "\t# x", " ; comment", " #", "#x", "  # a = b"])
    lines = [line(rng, k, v + tail)]
    if rng.random() < 0.5:
        lines.insert(0, line(rng, k, valid_value(rng, k)))
    t.add(rng.choice(TREE_DIRS), fname(rng), lines)
    return [k]


def g_refused_value(rng, t):
    if rng.random() < 0.6:
        k = rng.choice(KNOWN_INT + ("net.ipv4.ip_local_port_range",))
        t.add("usr/lib/sysctl.d", "10-a.conf", [line(rng, k, valid_value(rng, k))])
        t.add(rng.choice(TREE_DIRS), "20-b.conf", [line(rng, k, refused_value(rng, k))])
        return [k]
    pre, leaf = perif_key(rng)
    keys = ["%s.%s.%s" % (pre, i, leaf) for i in IFACES]
    t.add("usr/lib/sysctl.d", "10-a.conf", [line(rng, "%s.*.%s" % (pre, leaf), valid_value(rng, keys[0]))])
    pat = rng.choice(["l*", "*", "[ad]*"])
    t.add("usr/lib/sysctl.d", "20-b.conf", [line(rng, "%s.%s.%s" % (pre, pat, leaf),
                                                  refused_value(rng, keys[0]))])
    return keys


def g_glob_exclusion(rng, t):
    pre, leaf = perif_key(rng)
    keys = ["%s.%s.%s" % (pre, i, leaf) for i in IFACES]
    t.add("usr/lib/sysctl.d", "10-a.conf", [line(rng, "%s.*.%s" % (pre, leaf), valid_value(rng, keys[0]))])
    t.add(rng.choice(TREE_DIRS), rng.choice(["05-x.conf", "20-b.conf"]),
          ["-%s.%s.%s" % (pre, rng.choice(["l*", "[ad]*", "?o", "a*"]), leaf)])
    return keys


def g_dash_blank(rng, t):
    if rng.random() < 0.5:
        k = rng.choice(list(KEYS))
        t.add(rng.choice(TREE_DIRS), fname(rng), ["-%s%s = %s" % (rng.choice([" ", "\t", "  "]), k,
                                                                   valid_value(rng, k))])
        return [k]
    pre, leaf = perif_key(rng)
    iface = rng.choice(IFACES)
    keys = ["%s.%s.%s" % (pre, i, leaf) for i in IFACES]
    t.add("usr/lib/sysctl.d", "10-a.conf", [line(rng, "%s.*.%s" % (pre, leaf), valid_value(rng, keys[0]))])
    t.add("usr/lib/sysctl.d", "20-b.conf", ["- %s.%s.%s" % (pre, iface, leaf)])
    return keys


def g_lone_cr_nul(rng, t):
    ks = pick(rng, KEYS, 2)
    sep = rng.choice([b"\r", b"\0", b"\r", b"\0\n"])
    data = sep.join(line(rng, k, valid_value(rng, k)).encode() for k in ks) + rng.choice([b"\r", b"\n", b""])
    t.add_raw(rng.choice(TREE_DIRS), fname(rng), data)
    return ks


def g_trailing_sep(rng, t):
    k = rng.choice(list(KEYS))
    sp = rng.choice([k + ".", slashed(k) + "/", slashed(k) + "//", k + ".."])
    t.add(rng.choice(TREE_DIRS), fname(rng), ["%s = %s" % (sp, valid_value(rng, k))])
    return [k]


def g_dot_segment(rng, t):
    k = rng.choice(list(KEYS))
    parts = slashed(k).split("/")
    i = rng.randint(1, len(parts) - 1)
    parts.insert(i, ".")
    t.add(rng.choice(TREE_DIRS), fname(rng), ["%s = %s" % ("/".join(parts), valid_value(rng, k))])
    return [k]


def g_dot_dot(rng, t):
    # "net/ipv4/../core/somaxconn" names a key of KEYS once resolved: never
    # anything outside net/ (the walk back is one level, into net/).
    k = rng.choice([x for x in KEYS if x.count(".") >= 2])
    parts = slashed(k).split("/")
    other = rng.choice(["ipv4", "core", "unix", "ipv6"])
    spelt = "net/%s/../%s" % (other, "/".join(parts[1:]))
    t.add(rng.choice(TREE_DIRS), fname(rng), ["%s = %s" % (spelt, valid_value(rng, k))])
    return [k]


def g_long_line(rng, t):
    k = rng.choice(list(KEYS))
    pad = " " * rng.randint(4097, 20000)
    v = valid_value(rng, k)
    text = rng.choice(["%s = %s%s" % (k, pad, v), "%s = %s%s" % (k, v, pad), "%s%s= %s" % (k, pad, v)])
    t.add(rng.choice(TREE_DIRS), fname(rng), [text])
    return [k]


def g_raw_spelling(rng, t):
    pre, leaf = perif_key(rng)
    iface = rng.choice(IFACES)
    k = "%s.%s.%s" % (pre, iface, leaf)
    keys = ["%s.%s.%s" % (pre, i, leaf) for i in IFACES]
    sp = rng.choice(["/" + slashed(k), "%s..%s.%s" % (pre, iface, leaf), slashed(k),
                     slashed(k).replace("/", "//", 1), k])
    t.add("usr/lib/sysctl.d", "10-a.conf", ["%s = %s" % (sp, valid_value(rng, k))])
    t.add("usr/lib/sysctl.d", "20-b.conf", [line(rng, "%s.*.%s" % (pre, leaf), valid_value(rng, k))])
    return keys


def g_disagree_flag(rng, t):
    k = rng.choice(KNOWN_INT)
    v = valid_value(rng, k)
    if rng.random() < 0.5:
        a, b = v + " # one", v + rng.choice([" # two", "", "\t;x"])
    else:
        a, b = refused_value(rng, k), refused_value(rng, k)
    t.add("usr/lib/sysctl.d", "10-a.conf", [line(rng, k, a)])
    if rng.random() < 0.5:
        t.files["etc/sysctl.conf"] = (line(rng, k, b) + "\n").encode()
    else:
        t.add("etc/sysctl.d", "." + fname(rng), [line(rng, k, b)])
    return [k]


CLASSES = {
    "precedence": g_precedence, "devnull-mask": g_devnull_mask, "lexical-order": g_lexical_order,
    "hidden": g_hidden, "not-conf": g_not_conf, "sysctl-conf": g_sysctl_conf,
    "exclusion": g_exclusion, "glob": g_glob, "crlf": g_crlf, "multi-field": g_multi_field,
    "dotted-iface": g_dotted_iface, "unknown-key": g_unknown_key, "ignore-failure": g_ignore_failure, "dangling": g_dangling,
    # issue 16
    "inline-comment": g_inline_comment, "refused-value": g_refused_value,
    "glob-exclusion": g_glob_exclusion, "dash-blank": g_dash_blank, "lone-cr-nul": g_lone_cr_nul,
    "trailing-separator": g_trailing_sep, "dot-segment": g_dot_segment, "dot-dot": g_dot_dot,
    "long-line": g_long_line, "raw-spelling": g_raw_spelling, "disagree-flag": g_disagree_flag,
}


def generate(cls, rng):
    t = Tree()
    used = CLASSES[cls](rng, t)
    if rng.random() < 0.6 and not t.renamed:
        noise(rng, t, used)
    return t


# ---- namespaces ----

libc = ctypes.CDLL(None, use_errno=True)
libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_void_p]
CLONE_NEWNS, CLONE_NEWNET = 0x00020000, 0x40000000
MS_BIND, MS_REC, MS_PRIVATE = 4096, 16384, 1 << 18
HOST_NETNS = os.readlink("/proc/self/ns/net")


def _mount(src, dst, flags):
    if libc.mount(src.encode() if src else None, dst.encode(), None, flags, None) != 0:
        e = ctypes.get_errno()
        raise OSError(e, "mount %s on %s: %s" % (src, dst, os.strerror(e)))


def in_fresh_netns(fn, binds=(), renamed=False):
    """Runs fn() in a child in a new network namespace (and a private mount
    namespace with binds, (source, target) pairs); returns what fn returns
    (JSON-able), or raises."""
    sys.stdout.flush()
    sys.stderr.flush()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            if libc.unshare(CLONE_NEWNET | CLONE_NEWNS) != 0:
                raise OSError(ctypes.get_errno(), "unshare")
            if os.readlink("/proc/self/ns/net") == HOST_NETNS:
                raise RuntimeError("still in the machine's network namespace")
            if renamed:
                subprocess.run(["ip", "link", "set", "lo", "name", RENAMED_IF], check=True)
            _mount(None, "/", MS_REC | MS_PRIVATE)
            for src, dst in binds:
                _mount(src, dst, MS_BIND)
            res = {"ok": fn()}
        except BaseException as e:  # noqa: BLE001 - reported to the parent
            res = {"error": "%s: %s" % (type(e).__name__, e)}
        data = json.dumps(res).encode()
        while data:
            data = data[os.write(w, data):]
        os._exit(0)
    os.close(w)
    chunks = []
    while True:
        b = os.read(r, 65536)
        if not b:
            break
        chunks.append(b)
    os.close(r)
    os.waitpid(pid, 0)
    res = json.loads(b"".join(chunks) or b'{"error": "child died"}')
    if "error" in res:
        raise RuntimeError(res["error"])
    return res["ok"]


def norm(v):
    return " ".join(v.split()) if v is not None else None


def read_keys(keys):
    out = {}
    for k in keys:
        with open("/proc/sys/" + slashed(k)) as f:
            out[k] = norm(f.read())
    return out


def universe_check(renamed=False):
    """Every key exists in a fresh namespace, every glob expands inside the
    keys; returns their values there."""
    keys = keys_of(renamed)

    def probe():
        missing = [k for k in keys if not os.path.isfile("/proc/sys/" + slashed(k))]
        outside = {}
        for g in GLOBS:
            for p in globmod.glob("/proc/sys/" + slashed(g)):
                k = slashed(p[len("/proc/sys/"):])
                if k not in keys:
                    outside.setdefault(g, []).append(k)
        return {"missing": missing, "outside": outside, "defaults": read_keys(keys)}
    res = in_fresh_netns(probe, renamed=renamed)
    if res["missing"] or res["outside"]:
        raise SystemExit("bootdiff: refusing to run: keys missing in a fresh namespace %s, "
                         "globs reaching other keys %s" % (res["missing"], res["outside"]))
    return res["defaults"]


def run_tool(tool, root, empty_conf, renamed=False):
    binds = [(os.path.join(root, d), "/" + d) for d in ("etc/sysctl.d", "usr/lib/sysctl.d")]
    binds += [(os.path.join(root, "run"), "/run"), (os.path.join(root, "usr/local/lib"), "/usr/local/lib")]
    conf = os.path.join(root, "etc/sysctl.conf")
    binds.append((conf if os.path.lexists(conf) and os.path.isfile(conf) else empty_conf, "/etc/sysctl.conf"))

    def go():
        # The tree is what the tool will read, and nothing of the machine's.
        for d in TREE_DIRS + ("lib/sysctl.d",):
            if sorted(os.listdir("/" + d)) != sorted(os.listdir(os.path.join(root, d))):
                raise RuntimeError("/%s is not the tree's" % d)
        argv = [SYSTEMD_SYSCTL] if tool == "systemd" else [PROCPS_SYSCTL, "--system"]
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=30)
        return {"values": read_keys(keys_of(renamed)), "output": p.stdout.decode("utf-8", "replace")[-4000:]}
    return in_fresh_netns(go, binds, renamed)


# qtune check takes its lock in /run: its runs get a scratch /run, so the
# machine's is never touched.
SCRATCH_RUN = None


def run_qtune(qtune, root, profile, renamed=False):
    def go():
        p = subprocess.run([qtune, "--root", root, "--json", "check", profile],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=30)
        return {"rc": p.returncode, "out": p.stdout.decode("utf-8", "replace"),
                "err": p.stderr.decode("utf-8", "replace")[-2000:]}
    res = in_fresh_netns(go, [(SCRATCH_RUN, "/run")], renamed)
    try:
        doc = json.loads(res["out"])
    except ValueError:
        return None, res
    pred = {}
    for b in doc.get("boot", []):
        k = slashed(b["key"]) if "/" in b["key"] else b["key"]
        pred[k] = {t: b[t]["value"] for t in TOOLS}
        pred[k]["disagree"] = b["tools_disagree"]
    return pred, res


def write_profile(path, defaults, renamed=False):
    with open(path, "w") as f:
        f.write("qtune: 1\nname: bootdiff\nsysctl:\n")
        for k in keys_of(renamed):
            v = defaults[k]
            f.write("  %s: %s\n" % (k, v if v.lstrip("-").isdigit() else '"%s"' % v))


# ---- one tree ----

def compare(qtune, root, universes, empty_conf, renamed=False):
    """[(tool, key, predicted, actual)] for one tree written at root."""
    profile, defaults = universes[renamed]
    actual = {t: run_tool(t, root, empty_conf, renamed) for t in TOOLS}
    pred, raw = run_qtune(qtune, root, profile, renamed)
    bad = []
    if pred is None or raw["rc"] not in (0, 1):
        return [("qtune", "-", "exit %d" % raw["rc"], raw["err"].strip()[:300])], actual
    for k in compared_of(renamed):
        for t in TOOLS:
            p = pred[k][t]
            p = norm(p) if p is not None else defaults[k]
            if p != actual[t]["values"][k]:
                bad.append((t, k, p, actual[t]["values"][k]))
        differ = actual["systemd"]["values"][k] != actual["procps"]["values"][k]
        # One tool sets the key to what happens to be its kernel default
        # and the other leaves it: qtune cannot know the default, and says
        # the tools decide differently, which is true.
        unset = [t for t in TOOLS if pred[k][t] is None]
        by_default = (len(unset) == 1 and not differ and
                      norm(pred[k][[t for t in TOOLS if t not in unset][0]]) == defaults[k])
        if pred[k]["disagree"] != differ and not by_default:
            bad.append(("flag", k, "tools_disagree=%s" % str(pred[k]["disagree"]).lower(),
                        "values %s" % ("differ" if differ else "agree")))
    return bad, actual


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--qtune", required=True)
    ap.add_argument("--seed", type=int, default=16)
    ap.add_argument("--count", type=int, default=300)
    ap.add_argument("--report-only", action="store_true", help="report mismatches, exit 0")
    ap.add_argument("--keep", help="copy each mismatching tree under this directory")
    ap.add_argument("--fixtures", help="also check the fixture trees under this directory")
    ap.add_argument("--only", help="only this class (comma-separated)")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()

    if os.geteuid() != 0:
        print("bootdiff: needs root (network and mount namespaces)", file=sys.stderr)
        return 2
    for tool in (SYSTEMD_SYSCTL, PROCPS_SYSCTL, a.qtune):
        if not os.access(tool, os.X_OK):
            print("bootdiff: %s: not executable" % tool, file=sys.stderr)
            return 2
    work = tempfile.mkdtemp(prefix="qtune-bootdiff-")
    os.chmod(work, 0o755)
    # A copy: a rebuild during a long run must not change the binary.
    qtune = os.path.join(work, "qtune")
    shutil.copy2(a.qtune, qtune)
    global SCRATCH_RUN
    SCRATCH_RUN = os.path.join(work, "run")
    os.mkdir(SCRATCH_RUN, 0o755)
    empty_conf = os.path.join(work, "empty.conf")
    open(empty_conf, "w").close()
    universes = {}
    for renamed in (False, True):
        universes[renamed] = (os.path.join(work, "profile-%d.yaml" % renamed), universe_check(renamed))
        write_profile(universes[renamed][0], universes[renamed][1], renamed)

    classes = a.only.split(",") if a.only else list(CLASSES)
    stats = {c: {"trees": 0, "bad_trees": 0, "systemd": 0, "procps": 0, "flag": 0, "qtune": 0}
             for c in classes}
    shown = 0
    total_bad = 0
    try:
        for i in range(a.count):
            cls = classes[i % len(classes)]
            rng = random.Random("%d/%d" % (a.seed, i))
            tree = generate(cls, rng)
            root = os.path.join(work, "t%d" % i)
            tree.write(root)
            bad, actual = compare(qtune, root, universes, empty_conf, tree.renamed)
            st = stats[cls]
            st["trees"] += 1
            if bad:
                st["bad_trees"] += 1
                total_bad += 1
                for b in bad:
                    st[b[0]] += 1
                if a.verbose or shown < 12:
                    shown += 1
                    print("MISMATCH tree %d (seed %d, class %s):\n%s" % (i, a.seed, cls, tree.describe()))
                    for tool, k, p, v in bad:
                        print("    %-7s %-34s qtune predicts %-14s the tool left %s" % (tool, k, p, v))
                if a.keep:
                    shutil.copytree(root, os.path.join(a.keep, "seed%d-tree%d-%s" % (a.seed, i, cls)),
                                    symlinks=True)
            shutil.rmtree(root)
        fx_bad = check_fixtures(a.fixtures, qtune, universes, empty_conf, work) if a.fixtures else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)

    keys = len(compared_of(False))
    print("\nbootdiff: seed %d, %d trees, %d keys each, %d comparisons per tool"
          % (a.seed, a.count, keys, a.count * keys))
    print("%-20s %6s %10s %8s %8s %8s %6s" % ("CLASS", "TREES", "BAD TREES", "SYSTEMD", "PROCPS",
                                            "FLAG", "QTUNE"))
    tot = {x: 0 for x in ("trees", "bad_trees", "systemd", "procps", "flag", "qtune")}
    for c in classes:
        st = stats[c]
        for x in tot:
            tot[x] += st[x]
        print("%-20s %6d %10d %8d %8d %8d %6d" % (c, st["trees"], st["bad_trees"], st["systemd"],
                                                st["procps"], st["flag"], st["qtune"]))
    print("%-20s %6d %10d %8d %8d %8d %6d" % ("total", tot["trees"], tot["bad_trees"], tot["systemd"],
                                            tot["procps"], tot["flag"], tot["qtune"]))
    print("(SYSTEMD, PROCPS: keys whose value after the tool differs from qtune's prediction; "
          "FLAG: tools_disagree wrong; QTUNE: qtune could not answer)")
    failed = total_bad or fx_bad
    if failed and a.report_only:
        print("bootdiff: %d mismatching trees, %d fixtures (report only)" % (total_bad, fx_bad))
        return 0
    return 1 if failed else 0


# ---- fixtures: the minimal tree of each class, with what each tool leaves ----

def read_expected(path):
    """Lines "TOOL KEY VALUE" ('-' for the kernel default), '#' comments."""
    exp = []
    with open(path) as f:
        for ln in f:
            ln = ln.split("#", 1)[0].strip()
            if ln:
                tool, key, value = ln.split(None, 2)
                exp.append((tool, key, value))
    return exp


def check_fixtures(fxdir, qtune, universes, empty_conf, work):
    """Each fixture's expectations must be what the real tools do, and what
    qtune predicts: the fixtures the Criterion test reads stay true."""
    bad = 0
    for name in sorted(os.listdir(fxdir)):
        src = os.path.join(fxdir, name)
        if not os.path.isdir(os.path.join(src, "root")):
            continue
        root = os.path.join(work, "fx-" + name)
        shutil.copytree(os.path.join(src, "root"), root, symlinks=True)
        for d in TREE_DIRS:
            os.makedirs(os.path.join(root, d), exist_ok=True)
        if not os.path.lexists(os.path.join(root, "lib")):
            os.symlink("usr/lib", os.path.join(root, "lib"))
        mism, actual = compare(qtune, root, universes, empty_conf)
        defaults = universes[False][1]
        problems = []
        for tool, key, value in read_expected(os.path.join(src, "expected")):
            if tool == "flag":
                same = actual["systemd"]["values"][key] == actual["procps"]["values"][key]
                if same != (value == "agree"):
                    problems.append("flag %s: expected %s, the tools' values %s" % (
                        key, value, "agree" if same else "differ"))
                continue
            got = actual[tool]["values"][key]
            want = defaults[key] if value == "-" else norm(value)
            if got != want:
                problems.append("%s %s: expected %s, the tool left %s" % (tool, key, value, got))
        problems += ["%s %s: qtune predicts %s, the tool left %s" % m for m in mism]
        print("fixture %-22s %s" % (name, "ok" if not problems else "MISMATCH"))
        for p in problems:
            print("    " + p)
        bad += bool(problems)
        shutil.rmtree(root)
    return bad


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Compare member offsets of `kdx struct -o T` with pahole's layout of T.

usage: exprs_offsets.py KDX_OUTPUT PAHOLE_OUTPUT
Both files are parsed into (member name, byte offset) lists, in order,
anonymous structs/unions expanded; prints the first difference and exits 1
if they differ.
"""
import re
import sys


def strip_attributes(s):
    while True:
        i = s.find("__attribute__((")
        if i < 0:
            return s
        depth, j = 0, i + len("__attribute__")
        while j < len(s):
            if s[j] == "(":
                depth += 1
            elif s[j] == ")":
                depth -= 1
                if depth == 0:
                    break
            j += 1
        s = s[:i] + s[j + 1:]


def member_name(decl):
    decl = strip_attributes(decl).strip().rstrip(";").strip()
    decl = re.sub(r"\s*:\s*\d+$", "", decl)          # bit field width
    m = re.search(r"\(\s*\*+\s*(\w+)\s*\)", decl)      # function pointer
    if m:
        return m.group(1)
    decl = re.sub(r"(\[[^\]]*\]\s*)+$", "", decl)      # array dimensions
    m = re.search(r"(\w+)\s*$", decl)
    return m.group(1) if m else None


def parse_pahole(text):
    out = []
    for line in text.splitlines():
        s = line.strip()
        if not s or s.startswith("}") or s.startswith("/*"):
            continue
        m = re.match(r"(.*;)\s*/\*\s*(\d+)(?::\s*\d+)?\s+\d+\s*\*/\s*$", s)
        if not m:
            continue
        out.append((member_name(m.group(1)), int(m.group(2))))
    return out


def parse_kdx(text):
    out = []
    for line in text.splitlines():
        m = re.match(r"\s*\[(0x[0-9a-f]+|\d+)\]\s+(.*;)\s*$", line)
        if m:
            out.append((member_name(m.group(2)), int(m.group(1), 0)))
    return out


def main():
    kdx = parse_kdx(open(sys.argv[1]).read())
    pa = parse_pahole(open(sys.argv[2]).read())
    if not pa:
        print("# pahole output has no members")
        return 1
    for i in range(max(len(kdx), len(pa))):
        a = kdx[i] if i < len(kdx) else None
        b = pa[i] if i < len(pa) else None
        if a != b:
            print("# member %d: kdx %s, pahole %s" % (i, a, b))
            return 1
    print("# %d members agree" % len(pa))
    return 0


sys.exit(main())

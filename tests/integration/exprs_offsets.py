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
    """Members with their offsets, as crash and kdx show them: a member of
    an anonymous type that has a name ("struct { ... } lru_gen;") counts as
    one member at the closing line; the members inside it are not listed."""
    out = []
    stack = []          # len(out) at each "{" opened inside the struct
    depth = 0
    for line in text.splitlines():
        s = line.strip()
        if s.endswith("{"):
            depth += 1
            if depth > 1:
                stack.append(len(out))
            continue
        if s.startswith("}"):
            depth -= 1
            if not stack:
                continue
            start = stack.pop()
            m = re.match(r"\}\s*(\w+)?\s*(?:__attribute__\(\(.*\)\))?\s*;\s*/\*\s*(\d+)", strip_attributes(s))
            if m and m.group(1):
                del out[start:]
                out.append((m.group(1), int(m.group(2))))
            continue
        if not s or s.startswith("/*"):
            continue
        m = re.match(r"(.*;)\s*/\*\s*(\d+)(?::\s*(\d+))?\s+\d+\s*\*/\s*$", s)
        if not m:
            continue
        # bit fields: pahole gives the storage unit and the bit; crash and
        # kdx show the byte holding the first bit
        off = int(m.group(2)) + (int(m.group(3)) // 8 if m.group(3) else 0)
        out.append((member_name(m.group(1)), off))
    return out


def parse_kdx(text):
    out = []
    for line in text.splitlines():
        m = re.match(r"\s*\[(0x[0-9a-f]+|\d+)\]\s+\}\s*(\w+);\s*$", line)
        if m:
            out.append((m.group(2), int(m.group(1), 0)))
            continue
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

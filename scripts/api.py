#!/usr/bin/python3
"""api.py: every header's "Public API:" comment names exactly the
functions the header declares.

A header opens with the module's job and lists its public API (STYLE.md
rule 1): "Public API: name(), other(), ..." in its first comment.  A list
may shorten names that share a prefix: "loop_io_add/mod/del()" is
loop_io_add(), loop_io_mod() and loop_io_del().  A header that declares a
function must have the list; a name listed and not declared, or declared
and not listed, is a finding.  Prints one line per finding, naming the
header, and exits 1 if there was any.
"""
import glob
import os
import re
import sys

LAYERS = ["core", "supervisor", "netcheck", "init"]
NAME = r"[A-Za-z_][A-Za-z0-9_]*"


def first_comment(text):
    m = re.search(r"/\*(.*?)\*/", text, re.S)
    return m.group(1) if m else ""


def listed(comment):
    """The names of the "Public API:" list, or None without one."""
    i = comment.find("Public API:")
    if i < 0:
        return None
    names = set()
    for m in re.finditer(r"(%s(?:/%s)*)\(\)" % (NAME, NAME), comment[i:]):
        parts = m.group(1).split("/")
        first = parts[0]
        names.add(first)
        prefix = first[:first.rfind("_") + 1] if "_" in first else ""
        for p in parts[1:]:
            names.add(prefix + p)
    return names


def declared(text):
    """Functions declared at file scope (not typedefs, not struct members,
    not function pointers)."""
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    text = re.sub(r"^\s*#.*?(?<!\\)$", " ", text, flags=re.M | re.S)
    # Drop every braced body (structs, enums, unions): what is left at
    # file scope are declarations, one per `;`.
    out, depth = [], 0
    for ch in text:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif depth == 0:
            out.append(ch)
    names = set()
    for decl in "".join(out).split(";"):
        decl = " ".join(decl.split())
        if not decl or decl.startswith("typedef") or \
                decl.startswith("extern") and "(" not in decl:
            continue
        m = re.search(r"(%s)\s*\(" % NAME, decl)
        if not m or "(*" in decl[:m.end()]:
            continue
        if re.match(r"^(struct|enum|union)\s+%s\s*$" % NAME, decl):
            continue
        names.add(m.group(1))
    return names


def main():
    os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    bad = 0
    for d in LAYERS:
        for h in sorted(glob.glob(os.path.join(d, "*.h"))):
            with open(h) as f:
                text = f.read()
            have = declared(text)
            api = listed(first_comment(text))
            if api is None:
                if have:
                    print("api: %s declares %s but has no \"Public API:\" "
                          "line" % (h, ", ".join(sorted(have))))
                    bad += 1
                continue
            for n in sorted(have - api):
                print("api: %s declares %s() but its Public API line does "
                      "not list it" % (h, n))
                bad += 1
            for n in sorted(api - have):
                print("api: %s lists %s() in its Public API line, but "
                      "declares no such function" % (h, n))
                bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""size-report.py [--write RESULTS.md]: what the release binaries weigh,
and what each part of them costs.

1. Builds the release binaries (`make build build-aarch64`) and relinks
   the x86_64 one with this script's copy of the Makefile's flags; the
   copy must give the very same bytes (so the figures below are about the
   shipped binary, and a Makefile change that the copy misses fails here).
2. Relinks with one thing changed at a time (no LTO, no stack protector,
   the linker's separate-code or RELRO layout off, every sscanf stubbed)
   and reports the size of each: the price of each choice.
3. Links once without LTO, unstripped, with a link map, and charges every
   byte of code and read-only data to the archive member it came from
   (the libraries are built as fat LTO objects for this); lists the
   largest symbols of the released (LTO) build.

Prints the section "## Release binaries" in Markdown; with --write, puts
it into that file in place of the old one (make bench does).  Run from
anywhere after `make deps deps-aarch64`.
"""
import collections
import glob
import hashlib
import os
import re
import subprocess
import sys
import tempfile

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
MARK = "## Release binaries"
GOAL = 256 * 1024
WARN = ("-Wall -Wextra -Werror -Wshadow -Wstrict-prototypes "
        "-Wmissing-prototypes -Wformat=2 -Wno-format-nonliteral").split()


def version():
    with open(os.path.join(TOP, "Makefile")) as f:
        return re.search(r"^VERSION := (\S+)$", f.read(), re.M).group(1)


def srcs():
    return [f for d in ("core", "supervisor", "netcheck", "init")
            for f in sorted(glob.glob(d + "/*.c"), key=os.path.basename)]


def flags(arch):
    """cc, CFLAGS and LDFLAGS as the Makefile has them for ARCH."""
    deps = "build/deps" if arch == "x86_64" else "build/deps/aarch64"
    cc = "musl-gcc" if arch == "x86_64" else deps + "/bin/musl-gcc"
    cflags = ["-std=gnu11", "-Os", "-flto=auto"] + WARN + [
        "-D_GNU_SOURCE", '-DAGENT_INIT_VERSION="%s"' % version(),
        "-Icore", "-Isupervisor", "-Inetcheck", "-Iinit",
        "-ffile-prefix-map=%s=." % TOP, "-ffunction-sections",
        "-fdata-sections", "-fno-asynchronous-unwind-tables",
        "-fno-unwind-tables", "-fstack-protector-strong",
        "-isystem", deps + "/kernel-headers", "-I" + deps + "/prefix/include"]
    ldflags = ["-static", "-s", "-Wl,--gc-sections", "-Wl,-z,noexecstack",
               "-L" + deps + "/prefix/lib", "-lseccomp", "-lcap-ng", "-linih"]
    return cc, cflags, ldflags


def link(arch, out, drop=(), add=(), strip=True, mapfile=None):
    cc, cflags, ldflags = flags(arch)
    cflags = [f for f in cflags if f not in drop] + list(add)
    if not strip:
        ldflags = [f for f in ldflags if f != "-s"]
    cmd = [cc] + cflags + ["-o", out] + srcs() + ldflags
    if mapfile:
        cmd.append("-Wl,-Map=" + mapfile)
    subprocess.run(cmd, cwd=TOP, check=True)
    return os.path.getsize(out)


def content(path):
    """Code and data in the file (size(1): text + data), without the
    padding that page-aligned segments add."""
    out = subprocess.run(["size", path], check=True, stdout=subprocess.PIPE,
                         text=True).stdout.splitlines()[1].split()
    return int(out[0]) + int(out[1])


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def charges(mapfile):
    """{origin: bytes}: 'agent-init' for our objects, else archive(member)."""
    text = open(mapfile).read().split("Linker script and memory map", 1)[1]
    out = collections.Counter()
    pending = None
    for line in text.splitlines():
        m = re.match(r"^ (\.\S+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S+)", line)
        if m:
            sec, addr, size, origin = m.groups()
        elif pending:
            m2 = re.match(r"^\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S+)", line)
            sec, pending = pending, None
            if not m2:
                continue
            addr, size, origin = m2.groups()
        else:
            m1 = re.match(r"^ (\.\S+)$", line)
            pending = m1.group(1) if m1 else None
            continue
        if not sec.startswith((".text", ".rodata", ".data")) or \
                int(addr, 16) == 0:
            continue
        origin = re.sub(r".*/", "", origin)
        if origin.endswith(".o") and "(" not in origin:
            origin = "agent-init"
        out[origin] += int(size, 16)
    return out


def section(tmp):
    out = []
    p = out.append
    subprocess.run(["make", "-s", "build", "build-aarch64"], cwd=TOP,
                   check=True, stdout=subprocess.DEVNULL)
    rel = {"x86_64": os.path.join(TOP, "build", "agent-init"),
           "aarch64": os.path.join(TOP, "build", "aarch64", "agent-init")}
    copy = os.path.join(tmp, "copy")
    link("x86_64", copy)
    assert sha(copy) == sha(rel["x86_64"]), \
        "size-report.py's flags no longer give the Makefile's binary"
    size = {a: os.path.getsize(b) for a, b in rel.items()}
    p(MARK)
    p("")
    p("Command: `scripts/size-report.py` (run by `make bench`), agent-init %s"
      % version())
    p("")
    p("| binary | bytes | KiB | goal (x86_64) |")
    p("| --- | ---: | ---: | --- |")
    p("| `agent-init-%s-x86_64` | %d | %.1f | <= 256 KiB: %s |" % (
        version(), size["x86_64"], size["x86_64"] / 1024.0,
        "met" if size["x86_64"] <= GOAL else "**not met** (%d bytes over)"
        % (size["x86_64"] - GOAL)))
    p("| `agent-init-%s-aarch64` | %d | %.1f | |" % (
        version(), size["aarch64"], size["aarch64"] / 1024.0))
    p("")
    p("Every feature is in both: libseccomp, libcap-ng, inih, the checks, "
      "the supervisor.  What each build choice costs or saves, one change "
      "at a time against the release build (file sizes move in 4 KiB steps "
      "on x86_64, where code, read-only data and data start on pages of "
      "their own; code + data is the exact measure):")
    p("")
    base = content(rel["x86_64"])
    p("| variant | x86_64 file bytes | vs release | code + data | vs release "
      "| kept? |")
    p("| --- | ---: | ---: | ---: | ---: | --- |")
    p("| release build | %d | | %d | | |" % (size["x86_64"], base))
    variants = [
        ("no link-time optimisation (`-fno-lto`, libraries' machine code)",
         dict(drop=["-flto=auto"], add=["-fno-lto", "-fno-use-linker-plugin"]),
         "no: LTO is on"),
        ("no stack protector (`-fno-stack-protector`)",
         dict(add=["-fno-stack-protector"]), "no: hardening stays"),
        ("`-Wl,-z,noseparate-code` (headers and rodata in the executable "
         "segment)", dict(add=["-Wl,-z,noseparate-code"]),
         "no: less code mapped executable"),
        ("`-Wl,-z,norelro` (no read-only GOT/init_array after start)",
         dict(add=["-Wl,-z,norelro"]), "no: hardening stays"),
    ]
    # Measured, not guessed: what libc code a few call sites pull in,
    # with those calls stubbed out (for this measurement only).
    # Machine code, not LTO bytecode: --wrap does not see into LTO.
    stubs = os.path.join(tmp, "stubs.o")
    with open(stubs[:-1] + "c", "w") as f:
        f.write("int __wrap_sscanf(const char *s, const char *f, ...);\n"
                "int __wrap_sscanf(const char *s, const char *f, ...)\n"
                "{ (void)s; (void)f; return -1; }\n")
    subprocess.run(["musl-gcc", "-Os", "-fno-lto", "-c", "-o", stubs,
                    stubs[:-1] + "c"], check=True)
    no_scanf = [stubs, "-Wl,--wrap=sscanf"]
    variants += [
        ("without libc's scanf family (every `sscanf` call, agent-init's "
         "and libcap-ng's, stubbed)", dict(add=no_scanf), "(measurement)"),
        ("that, and every layout and hardening option above off",
         dict(add=no_scanf + ["-fno-stack-protector",
                              "-Wl,-z,noseparate-code", "-Wl,-z,norelro"]),
         "(measurement)"),
    ]
    for name, kw, kept in variants:
        v = os.path.join(tmp, "v")
        n = link("x86_64", v, **kw)
        p("| %s | %d | %+d | %d | %+d | %s |" % (
            name, n, n - size["x86_64"], content(v), content(v) - base, kept))
        last = n
    n = link("aarch64", os.path.join(tmp, "a"), add=["-Wl,-z,norelro"])
    p("")
    p("aarch64 is larger mostly by layout: with the 64 KiB maximum page size "
      "of arm64 kernels, RELRO pads the file before the data segment; "
      "`-Wl,-z,norelro` gives %d bytes (%+d), and is not used for the same "
      "reason as on x86_64." % (n, n - size["aarch64"]))
    p("")
    mapfile = os.path.join(tmp, "plain.map")
    link("x86_64", os.path.join(tmp, "plain"), drop=["-flto=auto"],
         add=["-fno-lto", "-fno-use-linker-plugin"], strip=False,
         mapfile=mapfile)
    c = charges(mapfile)
    per_lib = collections.Counter()
    for origin, n in c.items():
        per_lib[origin.split("(")[0]] += n
    total = sum(c.values())
    p("Where the bytes come from: code and read-only data charged to the "
      "object they came from (a link without LTO, with a link map; %d bytes "
      "in all):" % total)
    p("")
    p("| origin | bytes | share |")
    p("| --- | ---: | ---: |")
    for origin, n in per_lib.most_common():
        p("| %s | %d | %.0f%% |" % (origin, n, 100.0 * n / total))
    p("")
    p("| largest library members | bytes |")
    p("| --- | ---: |")
    for origin, n in c.most_common():
        if origin != "agent-init" and n >= 2000:
            p("| %s | %d |" % (origin, n))
    lto = os.path.join(tmp, "lto")
    link("x86_64", lto, strip=False)
    nm = subprocess.run(["nm", "--size-sort", "-S", lto], check=True,
                        stdout=subprocess.PIPE, text=True).stdout
    rows = sorted(((int(f[1], 16), f[3]) for f in
                   (line.split() for line in nm.splitlines())
                   if len(f) == 4 and f[2] in "tTrRdDwW"), reverse=True)
    p("")
    p("| largest symbols of the release build (LTO) | bytes |")
    p("| --- | ---: |")
    for n, name in rows[:12]:
        p("| `%s` | %d |" % (name, n))
    table = sum(n for n, name in rows if name in (
        "wordlist", "stringpool_contents", "syscall_resolve_name"))
    seccomp = per_lib.get("libseccomp.a", 0)
    p("")
    p("Why the goal is out of reach without patching a library: libseccomp "
      "is %d bytes of the binary, and %d of them (`wordlist`, "
      "`stringpool_contents`, `syscall_resolve_name`: its gperf table of "
      "every syscall's number on every architecture it knows, "
      "`syscalls.perf.o`) are one table that the rule compiler reaches "
      "for any rule and that no configure option of libseccomp 2.5.4 "
      "trims.  LTO (kept) and the libraries' -Os are all the size options "
      "they have (with LTO, what libcap-ng's `syslog` call would pull in is "
      "already gone).  The other levers are the rows above: the scanf "
      "family is also libcap-ng's (it parses /proc with `sscanf`), so it "
      "goes only with a patched libcap-ng; the rest gives up hardening.  "
      "All of them at once come to %d bytes (goal: %d)."
      % (seccomp, table, last, GOAL))
    return "\n".join(out) + "\n"


def put(path, text):
    old = open(path).read() if os.path.exists(path) else ""
    keep, skip = [], False
    for line in old.splitlines():
        if line == MARK:
            skip = True
            continue
        if skip and line.startswith("## "):
            skip = False
        if not skip:
            keep.append(line)
    while keep and not keep[-1].strip():
        keep.pop()
    with open(path, "w") as f:
        f.write("\n".join(keep) + ("\n\n" if keep else "") + text)


def main(argv):
    with tempfile.TemporaryDirectory(prefix="ai-size-") as tmp:
        text = section(tmp)
    print(text, end="")
    if len(argv) == 3 and argv[1] == "--write":
        put(argv[2], text)
    elif len(argv) != 1:
        print("usage: size-report.py [--write RESULTS.md]", file=sys.stderr)
        return 64
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/python3
"""make man: the man pages (man/) against what they describe, and the version everywhere.

- mandoc -T lint -W warning: no warning (style notes such as "referenced manual not found" for
  pages not installed yet are not warnings);
- latchkey(1) and the CLI's help: every --option in `latchkey --help` and `latchkey help CMD`
  is in the page and every one in the page is in the help; the same for the commands
  (`key create`, `audit verify`, ...);
- latchkey-pool(8) and `latchkey-pool --help`: the same for its options;
- latchkey.conf(5) and the settings table of lib/base/conf.c (with lk_conf_defaults): every
  setting has an entry and every entry is a setting, each with "Range: MIN to MAX." for the
  numbers and "Default: VALUE." as the code has them;
- VERSION, `latchkey --version`, the top entries of debian/changelog and CHANGELOG.md agree.
Exits 1 listing every disagreement. BIN: the built programs (default build/bin).
"""
import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MAN = REPO / "man"
BIN = Path(os.environ.get("BIN", REPO / "build" / "bin"))
problems = []


def out(*cmd):
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
    return r.stdout + r.stderr


def compare(what, in_help, in_man):
    for x in sorted(in_help - in_man):
        problems.append(f"{what}: {x} is in the help but not in the man page")
    for x in sorted(in_man - in_help):
        problems.append(f"{what}: {x} is in the man page but not in the help")


def long_options(text):
    # "--no-..." in prose names a family, not an option
    return set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*[a-z0-9])(?![\w-])", text))


def man_options(src):
    return {"--" + o for o in re.findall(r"\bFl -([a-z][a-z0-9-]*)", src)}


def lint():
    pages = sorted(MAN.glob("*.[1-9]"))
    if len(pages) < 4:
        problems.append(f"man/: expected 4 pages, found {[p.name for p in pages]}")
    r = subprocess.run(["mandoc", "-T", "lint", "-W", "warning", *map(str, pages)],
                       capture_output=True, text=True)
    for line in (r.stdout + r.stderr).splitlines():
        problems.append(f"mandoc: {line}")


def cli_page():
    usage = out(BIN / "latchkey", "--help")
    cmds = set()
    for m in re.finditer(r"^  ([a-z][a-z-]*)(?: ([a-z][a-z|-]*))?(?=\s|$)", usage, re.M):
        for sub in (m.group(2) or "").split("|"):
            cmds.add(f"{m.group(1)} {sub}".strip())
    cmds.add("help")
    text = usage + "".join(out(BIN / "latchkey", "help", c) for c in {c.split()[0] for c in cmds})
    src = (MAN / "latchkey.1").read_text()
    compare("latchkey(1) options", long_options(text), man_options(src))
    section = src[src.index(".Sh COMMANDS"):src.index(".Sh", src.index(".Sh COMMANDS") + 3)]
    in_man = set()
    for m in re.finditer(r"^\.It (?:Cm |Xo\n\.Cm )(.*)$", section, re.M):
        words = []
        for tok in m.group(1).split():
            if re.fullmatch(r"[A-Z][a-z]{1,2}", tok):     # the next macro: the arguments begin
                break
            words.append(tok)
        for sub in [w for w in words[1:] if w != "|"] or [""]:
            in_man.add(f"{words[0]} {sub}".strip())
    compare("latchkey(1) commands", cmds, in_man)


def pool_page():
    compare("latchkey-pool(8) options", long_options(out(BIN / "latchkey-pool", "--help")),
            man_options((MAN / "latchkey-pool.8").read_text()))


def number(expr):
    if not re.fullmatch(r"[\d\s*]+", expr):
        raise ValueError(expr)
    return eval(expr)     # a product of integer literals, checked above


def conf_page():
    code = (REPO / "lib" / "base" / "conf.c").read_text()
    table = re.findall(r'^\s*\{ "([a-z0-9_]+)", (C_[A-Z_]+), S\((\w+)\), ([^,]+), ([^}]+?) \}', code, re.M)
    if len(table) < 30:
        problems.append(f"lib/base/conf.c: only {len(table)} settings parsed")
    body = code[code.index("lk_conf_defaults(struct lk_conf *c)"):]
    body = body[:body.index("\n}\n")]
    defaults = dict(re.findall(r"c->(\w+) = (\d+);", body))
    defaults.update(re.findall(r'snprintf\(c->(\w+), sizeof\(c->\w+\), "([^"]*)"\)', body))
    src = (MAN / "latchkey.conf.5").read_text()
    items = {}
    for m in re.finditer(r"^\.It Cm ([a-z0-9_]+)\b.*?$(.*?)(?=^\.It |^\.El)", src, re.M | re.S):
        items[m.group(1)] = " ".join(m.group(2).split())
    compare("latchkey.conf(5) settings", {n for n, *_ in table}, set(items))
    for name, ctype, field, lo, hi in table:
        text = items.get(name)
        if text is None:
            continue
        if ctype in ("C_UINT", "C_SIZE"):
            want = f"Range: {number(lo)} to {number(hi)}."
            if want not in text:
                problems.append(f"latchkey.conf(5) {name}: says no '{want}'")
        if ctype == "C_BOOL":
            default = "no"
        elif ctype == "C_AUTHZ_DEFAULT":
            default = "deny"
        elif ctype == "C_PASSFILE" or field not in defaults:
            default = "none"
        else:
            default = defaults[field]
        if f"Default: {default}." not in text:
            problems.append(f"latchkey.conf(5) {name}: says no 'Default: {default}.'")


def versions():
    version = (REPO / "VERSION").read_text().strip()
    cli = out(BIN / "latchkey", "--version").strip()
    if cli != f"latchkey {version}":
        problems.append(f"latchkey --version says '{cli}', VERSION {version}")
    deb = (REPO / "debian" / "changelog").read_text().split("\n", 1)[0]
    m = re.match(r"latchkey \(([^)]+)\) ", deb)
    if not m or m.group(1) != version:
        problems.append(f"debian/changelog's top entry is '{deb}', VERSION {version}")
    m = re.search(r"^## \[?([0-9][^\] ]*)", (REPO / "CHANGELOG.md").read_text(), re.M)
    if not m or m.group(1) != version:
        problems.append(f"CHANGELOG.md's top release is {m.group(1) if m else 'missing'}, VERSION {version}")


for check in (lint, cli_page, pool_page, conf_page, versions):
    try:
        check()
    except (OSError, ValueError) as e:
        problems.append(f"{check.__name__}: {e}")
for p in problems:
    print(f"man: {p}", file=sys.stderr)
if problems:
    sys.exit(1)
print("man: 4 pages lint clean; latchkey(1), latchkey-pool(8) and latchkey.conf(5) agree with the "
      "help and lib/base/conf.c; the version agrees everywhere", file=sys.stderr)

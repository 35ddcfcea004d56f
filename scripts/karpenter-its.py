#!/usr/bin/env python3
"""List the Ginkgo test cases of Karpenter test files: one line per It(...) or table Entry(...),
as `<file>\t<Describe > Context > ... > It text>`.

Used to keep the conformance suite's manifest (crates/karpsim/tests/karpenter_conformance/upstream.tsv)
in step with Karpenter. Reads the files of a kubernetes-sigs/karpenter checkout at a tag:

    git -C KARPENTER_REPO show v1.14.1:pkg/controllers/provisioning/scheduling/suite_test.go > suite_test.go
    scripts/karpenter-its.py --prefix pkg/controllers/provisioning/scheduling/ suite_test.go
"""
import re
import sys

CONTAINERS = {"Describe", "Context", "When", "DescribeTable", "FDescribe", "FContext", "FWhen", "PDescribe", "PContext", "XDescribe"}
CASES = {"It", "Entry", "FIt", "PIt", "XIt", "FEntry", "PEntry", "XEntry", "Specify"}


def tokens(src):
    """Identifiers, string literals, and single punctuation characters, skipping comments."""
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if src.startswith("//", i):
            i = src.find("\n", i)
            i = n if i < 0 else i
        elif src.startswith("/*", i):
            i = src.find("*/", i) + 2
        elif c == '"':
            j = i + 1
            while src[j] != '"':
                j += 2 if src[j] == "\\" else 1
            yield ("str", src[i + 1:j].replace('\\"', '"').replace("\\\\", "\\"))
            i = j + 1
        elif c == "`":
            j = src.find("`", i + 1)
            yield ("str", src[i + 1:j])
            i = j + 1
        elif c == "'":
            j = i + 1
            while src[j] != "'":
                j += 2 if src[j] == "\\" else 1
            i = j + 1
        elif c.isalpha() or c == "_":
            m = re.match(r"[A-Za-z_][A-Za-z0-9_]*", src[i:])
            yield ("id", m.group(0))
            i += len(m.group(0))
        elif c.isspace():
            i += 1
        else:
            yield ("p", c)
            i += 1


def cases(src):
    toks = list(tokens(src))
    stack = []  # (name, paren depth at which the container's call closes)
    depth = 0
    out = []
    for k, (kind, val) in enumerate(toks):
        if kind == "p" and val == "(":
            depth += 1
        elif kind == "p" and val == ")":
            depth -= 1
            while stack and stack[-1][1] > depth:
                stack.pop()
        elif kind == "id" and k + 2 < len(toks) and toks[k + 1] == ("p", "(") and (val in CONTAINERS or val in CASES):
            # the first argument: a string literal, or the raw tokens up to the first comma
            if toks[k + 2][0] == "str":
                name = toks[k + 2][1]
            else:
                j, raw = k + 2, []
                while toks[j] != ("p", ","):
                    raw.append(toks[j][1])
                    j += 1
                name = "".join(raw)
            if val in CONTAINERS:
                stack.append((name, depth + 1))
            else:
                out.append(" > ".join([s[0] for s in stack] + [name]))
    return out


def main():
    args = sys.argv[1:]
    prefix = ""
    if args[:1] == ["--prefix"]:
        prefix, args = args[1], args[2:]
    for path in args:
        with open(path, encoding="utf-8") as f:
            for c in cases(f.read()):
                print(f"{prefix}{path.rsplit('/', 1)[-1]}\t{c}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Reports import cycles between the source files of the workspace's crates.

Each `.rs` file under a crate's `src/` is one module (`lib.rs` the root, `a/mod.rs` and
`a.rs` the module `a`). A file depends on another when it names it through `crate::`,
`$crate::`, `super::` or `self::` paths, in `use` items or inline. Names a crate root or a
`mod.rs` re-exports (`pub use`) resolve to the file that defines them, and those re-exports
are not dependencies themselves: they only gather names.

Usage: tools/import_cycles.py [crate-dir ...]   (default: rnn-runtime rnn-macros)
Exits with 1 when a cycle is found.
"""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PATH = re.compile(r"(\$?crate|super|self)((?:::[A-Za-z_][A-Za-z0-9_]*)+|::\{)")


def strip(text):
    """Removes comments, string and char literals, keeping line structure."""
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r'r#*"(?:.|\n)*?"#*', '""', text)
    text = re.sub(r'"(?:\\.|[^"\\])*"', '""', text)
    return re.sub(r"'(?:\\.|[^'\\])'", "''", text)


def module_of(src, path):
    parts = list(path.relative_to(src).with_suffix("").parts)
    if parts[-1] in ("lib", "main", "mod"):
        parts.pop()
    return tuple(parts)


def expand_use(tree):
    """`a::{b, c::{d, e}}` -> [a::b, a::c::d, a::c::e]."""
    tree = " ".join(tree.split())
    i = tree.find("{")
    if i < 0:
        # `path as alias`: the alias names nothing in another file.
        return [re.sub(r"\s+as\s+\w+$", "", tree).replace(" ", "")]
    prefix, body = tree[:i], tree[i + 1 : tree.rfind("}")]
    items, depth, cur = [], 0, ""
    for ch in body:
        if ch == "," and depth == 0:
            items.append(cur)
            cur = ""
            continue
        depth += ch == "{"
        depth -= ch == "}"
        cur += ch
    items.append(cur)
    return [p for it in items if it.strip() for p in expand_use(prefix.strip() + it.strip())]


def scan(crate):
    src = ROOT / crate / "src"
    files = {module_of(src, p): p for p in sorted(src.rglob("*.rs"))}
    raw = {}  # module -> [(path segments, is_reexport)]
    for mod, path in files.items():
        text = strip(path.read_text())
        refs = []
        # Inline `mod x { ... }` blocks move `super::`/`self::` one level down.
        inline = []
        depth = 0
        stack = []
        for m in re.finditer(r"\bmod\s+([A-Za-z_]\w*)\s*\{|\{|\}|(pub(?:\([^)]*\))?\s+)?use\s+([^;]+);|" + PATH.pattern, text):
            tok = m.group(0)
            here = mod + tuple(s[0] for s in stack)
            if m.group(1):
                depth += 1
                stack.append((m.group(1), depth))
            elif tok == "{":
                depth += 1
            elif tok == "}":
                if stack and stack[-1][1] == depth:
                    stack.pop()
                depth -= 1
            elif m.group(3) is not None:
                reexport = bool(m.group(2))
                for p in expand_use(m.group(3)):
                    refs.append((here, p.split("::"), reexport))
            else:
                refs.append((here, (m.group(4) + m.group(5)).split("::"), False))
        raw[mod] = refs
    return files, raw


def absolute(here, segs):
    """The absolute path a `crate::`/`super::`/`self::` path names, or None."""
    segs = [s for s in segs if s and s != "*" and s != "{"]
    if not segs:
        return None
    head, rest = segs[0], segs[1:]
    if head in ("crate", "$crate"):
        return rest
    base = list(here)
    if head == "super":
        base = base[:-1]
        while rest and rest[0] == "super":
            base, rest = base[:-1], rest[1:]
    elif head != "self":
        return None
    return base + rest


def graph(crate):
    files, raw = scan(crate)
    exports = {}  # (module, name) -> absolute path, from re-exporting roots and mod.rs
    for mod, refs in raw.items():
        if files[mod].name in ("lib.rs", "mod.rs"):
            for here, segs, reexport in refs:
                if reexport:
                    p = absolute(here, segs)
                    if p is None and segs and segs[0] not in ("crate", "super", "self", "$crate"):
                        p = list(mod) + segs  # `pub use child::Item;`
                    if p:
                        exports[(mod, p[-1])] = p

    def resolve(path, seen=0):
        best = ()
        for n in range(len(path), -1, -1):
            if tuple(path[:n]) in files:
                best = tuple(path[:n])
                break
        nxt = path[len(best)] if len(best) < len(path) else None
        if nxt and (best, nxt) in exports and seen < 8:
            return resolve(exports[(best, nxt)] + path[len(best) + 1 :], seen + 1)
        return best

    edges = {m: set() for m in files}
    for mod, refs in raw.items():
        gatherer = files[mod].name in ("lib.rs", "mod.rs")
        for here, segs, reexport in refs:
            if reexport and gatherer:
                continue
            p = absolute(here, segs)
            if p is None and segs and gatherer and segs[0] not in ("crate", "super", "self"):
                continue
            if p is None:
                continue
            target = resolve(p)
            if target != mod and target in files:
                edges[mod].add(target)
    return files, edges


def cycles(edges):
    """Strongly connected components with more than one file (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def name(m):
    return "::".join(m) or "crate"


def main():
    crates = sys.argv[1:] or ["rnn-runtime", "rnn-macros"]
    found = False
    for crate in crates:
        files, edges = graph(crate)
        comps = cycles(edges)
        print(f"{crate}: {len(files)} files, {sum(map(len, edges.values()))} imports, "
              f"{len(comps)} cycle(s)")
        for comp in comps:
            found = True
            members = set(comp)
            print("  cycle: " + ", ".join(name(m) for m in comp))
            for m in comp:
                for t in sorted(edges[m] & members):
                    print(f"    {name(m)} -> {name(t)}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())

"""Dependency cycles between the files of each language (issue 24): prints every cycle and
exits 1 if there is one. tests/test_cycles.py runs it.

    python3 scripts/cycles.py [python|rust|c ...]

- Python (python/qsota/): a module depends on what it imports, at the top or inside a
  function (a lazy import is still a dependency); `import qsota` is the package's __init__.
- Rust (src/, tools/*/src/): a file's module depends on the modules its paths name
  (`crate::a::b`, `super::x`, `self::x`, a child's name in `use`); declaring a child
  (`mod x;`) is not a dependency. A file's inline `mod tests` belongs to it.
- C (cmodule/): a file depends on the files that define the global symbols its object
  leaves undefined (`nm` over the objects of the last `./build.sh build`).
"""

import ast
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def cycles(graph):
    """The strongly connected components of more than one node (or a node on itself), each
    sorted: Tarjan's algorithm, iterative."""
    index, low, on, stack, found = {}, {}, set(), [], []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on.add(root)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in graph:
                    continue
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    break
                if nxt in on:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    part = []
                    while True:
                        n = stack.pop()
                        on.discard(n)
                        part.append(n)
                        if n == node:
                            break
                    if len(part) > 1 or node in graph[node]:
                        found.append(sorted(part))
    return found


# -- Python -------------------------------------------------------------------------------


def python_graph(top=ROOT / "python"):
    modules = {}
    for path in sorted(top.rglob("*.py")):
        parts = list(path.relative_to(top).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts.pop()
        modules[".".join(parts)] = (path, is_package)
    graph = {}
    for name, (path, is_package) in modules.items():
        package = name if is_package else name.rpartition(".")[0]
        deps = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = package
                for _ in range(node.level - 1):
                    base = base.rpartition(".")[0]
                base = ".".join(p for p in (base if node.level else "", node.module or "") if p)
                # `from . import x` names a module when x is one, else something of `base`.
                targets = [base + "." + a.name for a in node.names] + [base]
            else:
                continue
            for t in targets:
                if t in modules and t != name:
                    deps.add(t)
                    break
        graph[name] = deps
    return graph


# -- Rust ---------------------------------------------------------------------------------

_RUST_PATH = re.compile(r"\b(crate|super|self)((?:::[A-Za-z_][A-Za-z0-9_]*)*)(::\{[^}]*\}|::\*)?")
_RUST_MOD = re.compile(r"^\s*(?:#\[[^\]]*\]\s*)*(?:pub(?:\([a-z]+\))?\s+)?mod\s+(\w+)\s*;", re.M)
_RUST_COMMENT = re.compile(r"//[^\n]*")


def _rust_modules(src):
    """{module path (tuple): file} of the crate rooted at src/lib.rs or src/main.rs."""
    out = {}
    for path in sorted(src.rglob("*.rs")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        if parts in (["lib"], ["main"]):
            parts = []
        elif parts[-1] == "mod":
            parts.pop()
        out[tuple(parts)] = path
    return out


_RUST_INLINE_MOD = re.compile(r"^\s*(?:pub(?:\([a-z]+\))?\s+)?mod\s+\w+\s*\{", re.M)


def rust_graph(src):
    modules = _rust_modules(src)
    graph = {}
    for mod, path in modules.items():
        text = _RUST_COMMENT.sub("", path.read_text())
        children = set(_RUST_MOD.findall(text))
        deps = set()

        def add(names):
            # the longest prefix that is a module with a file of its own
            for n in range(len(names), -1, -1):
                if tuple(names[:n]) in modules:
                    deps.add(tuple(names[:n]))
                    return

        # In an inline module (`mod tests { ... }`, at the end of a file), `super` is the
        # file's own module.
        inline = _RUST_INLINE_MOD.search(text)
        cut = inline.start() if inline else len(text)
        for part, parent in ((text[:cut], list(mod[:-1])), (text[cut:], list(mod))):
            for head, rest, group in _RUST_PATH.findall(part):
                if not rest and not group:
                    continue  # pub(crate), pub(super), a bare self
                names = rest.split("::")[1:]
                if head == "crate":
                    base = []
                elif head == "super":
                    base = list(parent)
                    while names and names[0] == "super":
                        base.pop()
                        names = names[1:]
                else:
                    base = list(mod)
                # `a::{b, c::d}`: each of b and c; `a::*`: a
                heads = re.findall(r"(?:^|,)\s*(\w+)", group[3:-1]) if group[:3] == "::{" else []
                for h in heads or [None]:
                    add(base + names + ([h] if h and h != "self" else []))
        for child in children:  # `child::x`, in a `use` or in code
            if re.search(r"(?<![:\w])%s::" % child, text):
                add(list(mod) + [child])
        deps.discard(mod)
        graph[mod] = deps
    return {"::".join(m) or "crate": {"::".join(d) or "crate" for d in ds} for m, ds in graph.items()}


def rust_crates():
    crates = {"qsota": ROOT / "src"}
    for tool in sorted((ROOT / "tools").glob("*/src")):
        crates[tool.parent.name] = tool
    return crates


# -- C ------------------------------------------------------------------------------------


def c_objects():
    """{source stem: object} of cmodule/*.c from the newest MicroPython unix build."""
    sources = {p.stem for p in (ROOT / "cmodule").glob("*.c")}
    builds = sorted((ROOT / "build" / "mp-unix").glob("*/qsota/cmodule"),
                    key=lambda d: d.stat().st_mtime)
    if not builds:
        raise SystemExit("no MicroPython build with cmodule/ objects: run ./build.sh build")
    objects = {p.stem: p for p in builds[-1].glob("*.o") if p.stem in sources}
    missing = sources - set(objects)
    if missing:
        raise SystemExit("no objects for cmodule/%s.c: run ./build.sh build" % sorted(missing))
    return objects


def c_graph(objects):
    defined, undefined = {}, {}
    for stem, obj in objects.items():
        out = subprocess.run(["nm", str(obj)], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            fields = line.split()
            if len(fields) == 2 and fields[0] == "U":
                undefined.setdefault(stem, set()).add(fields[1])
            elif len(fields) == 3 and fields[1].isupper():
                defined[fields[2]] = stem
    return {s: {defined[u] for u in undefined.get(s, ()) if u in defined} - {s} for s in objects}


def main(langs):
    graphs = []
    if "python" in langs:
        graphs.append(("python", python_graph()))
    if "rust" in langs:
        for crate, src in rust_crates().items():
            graphs.append(("rust " + crate, rust_graph(src)))
    if "c" in langs:
        graphs.append(("c cmodule", c_graph(c_objects())))
    bad = 0
    for what, graph in graphs:
        found = cycles(graph)
        edges = sum(len(d) for d in graph.values())
        print("%s: %d files, %d dependencies, %d cycles" % (what, len(graph), edges, len(found)))
        for c in found:
            bad += 1
            print("  cycle: " + " <-> ".join(c))
            for node in c:
                print("    %s -> %s" % (node, ", ".join(sorted(set(graph[node]) & set(c)))))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["python", "rust", "c"]))

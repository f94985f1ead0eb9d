"""The layers of docs/architecture.md hold: each package imports only the ones below it
(retrieval < assistant < eval, and the web chat over assistant alone)."""

from __future__ import annotations

import ast

from retrieval.settings import REPO_ROOT

PACKAGES = ("retrieval", "assistant", "eval", "webui", "app")
# what each may import of the others (the chatrec command names its targets as strings)
ALLOWED = {
    "retrieval": set(),
    "assistant": {"retrieval"},
    "eval": {"retrieval", "assistant"},
    "webui": {"assistant"},
    "app": {"assistant", "webui"},
}
# the known exceptions, each an import inside the one function that needs it
EXCEPTIONS = {("retrieval/prefetch.py", "assistant"), ("retrieval/dialogues.py", "eval")}


def imported_packages(path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found |= {n.split(".")[0] for n in names} & set(PACKAGES)
    return found


def test_each_package_imports_only_the_layers_below():
    files = {"app": [REPO_ROOT / "app.py"]}
    for package in PACKAGES[:-1]:
        files[package] = sorted((REPO_ROOT / package).rglob("*.py"))
    assert all(files.values()) and len(files["retrieval"]) > 10
    wrong = []
    for package, paths in files.items():
        for path in paths:
            rel = str(path.relative_to(REPO_ROOT))
            for other in imported_packages(path) - ALLOWED[package] - {package}:
                if (rel, other) not in EXCEPTIONS:
                    wrong.append(f"{rel} imports {other}")
    assert wrong == [], "imports against the layers of docs/architecture.md:\n" + "\n".join(wrong)


def test_the_checker_sees_an_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from eval.runner import run\n    import webui.cards\n")
    assert imported_packages(bad) == {"eval", "webui"}

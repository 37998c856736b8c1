"""The architecture is checked, not hoped for: every module sits in a layer of the import-linter
contract, and the contracts hold (``lint-imports`` also runs in ``make test``)."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Package modules that only re-export their package's public API (no code of their own).
REEXPORTS = {"lib.techniques", "lib.runtimes", "lib.compare"}


def _contracts() -> list[dict]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]


def _layer_modules() -> set[str]:
    (layers,) = [c for c in _contracts() if c["type"] == "layers"]
    found = set()
    for layer in layers["layers"]:
        for name in layer.replace("|", ":").split(":"):
            found.add(name.strip())
    return found


def _lib_modules() -> list[str]:
    out = []
    for path in sorted((ROOT / "lib").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out.append(".".join(parts))
    return out


def test_every_module_is_placed_in_a_layer():
    """A new module must be put where the layers say, so the contract covers it."""
    placed = _layer_modules()
    unplaced = []
    for module in _lib_modules():
        if module in ("lib", "lib.__main__") or module in REEXPORTS:
            continue
        prefixes = {".".join(module.split(".")[:i]) for i in range(2, module.count(".") + 2)}
        if not prefixes & placed:
            unplaced.append(module)
    assert not unplaced, f"modules in no layer of pyproject's import-linter contract: {unplaced}"


def test_layer_names_exist():
    """A typo in the contract would silently check nothing."""
    modules = set(_lib_modules()) | {"pages"}
    missing = [m for m in _layer_modules() if m not in modules]
    assert not missing, missing


def test_reexport_packages_hold_no_code():
    """A package's __init__ may re-export names (so layers see its modules' imports) but hold
    no code of its own: only a docstring, imports and ``__all__``."""
    for name in REEXPORTS:
        tree = ast.parse((ROOT / Path(*name.split(".")) / "__init__.py").read_text())
        for node in tree.body:
            ok = (
                isinstance(node, ast.Import | ast.ImportFrom)
                or (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))
                or (
                    isinstance(node, ast.Assign)
                    and [getattr(t, "id", "") for t in node.targets] == ["__all__"]
                )
            )
            assert ok, f"{name}/__init__.py line {node.lineno}: only re-exports belong there"


@pytest.mark.skipif(shutil.which("lint-imports", path=str(Path(sys.executable).parent)) is None,
                    reason="import-linter not installed (make test installs it)")  # fmt: skip
def test_contracts_hold_and_a_broken_one_fails(tmp_path):
    lint = str(Path(sys.executable).parent / "lint-imports")
    ok = subprocess.run([lint, "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout[-2000:]
    # The same contracts must catch a violation: reverse two layers and expect a failure.
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[tool.importlinter]\nroot_packages = ["lib"]\n'
        '[[tool.importlinter.contracts]]\nname = "reversed"\ntype = "layers"\n'
        'layers = ["lib.errors", "lib.cli"]\n'
    )
    broken = subprocess.run(
        [lint, "--no-cache", str(bad)], cwd=ROOT, capture_output=True, text=True
    )
    assert broken.returncode != 0 and "BROKEN" in broken.stdout

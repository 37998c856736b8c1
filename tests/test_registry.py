"""The lazy registries of techniques and runtimes, and the shape of lib/models."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from lib.errors import UserError
from lib.registry import LazyRegistry
from lib.runtimes import registry as runtime_registry
from lib.runtimes.configs import RUNTIMES
from lib.techniques import configs, registry

ROOT = Path(__file__).resolve().parents[1]


def test_unknown_name_lists_the_known_ones():
    reg = LazyRegistry("widget", {"a": "json:dumps", "b": "json:loads"})
    with pytest.raises(UserError, match="Unknown widget 'c'. Known: a, b."):
        reg.load("c")


def test_entries_load_on_first_use_only():
    reg = LazyRegistry("widget", {"dumps": "json:dumps"})
    assert not reg.is_loaded("dumps") and "dumps" in reg
    import json

    assert reg.load("dumps") is json.dumps and reg.is_loaded("dumps")
    reg.register("inline", len)
    assert reg.load("inline") is len and reg.names() == ["dumps", "inline"]


def test_every_technique_has_a_config_and_a_handler():
    assert set(configs.TECHNIQUES) == set(registry.HANDLERS)
    for name in registry.HANDLERS:
        module, _, attr = registry.HANDLERS.target(name).partition(":")
        assert module.startswith("lib.techniques.") and attr.startswith("apply_")


def test_every_runtime_has_a_config_and_code():
    assert set(RUNTIMES) == set(runtime_registry.runtimes())
    for name in RUNTIMES:
        assert runtime_registry._PREPARE.target(name) == f"lib.runtimes.{name}:prepare"


def test_handlers_resolve_and_unknown_ones_are_user_errors():
    for name in registry.HANDLERS:
        assert callable(registry.handler(name))
    with pytest.raises(UserError, match="Unknown technique 'turbo'. Known: fp32, half"):
        registry.get("turbo")
    with pytest.raises(UserError, match="Unknown runtime 'warp'. Known: eager, ort, compile"):
        runtime_registry.get("warp")


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return found


@pytest.mark.parametrize(
    "module, forbidden",
    [
        ("lib/models/checkpoint.py", ("lib.models.load", "lib.models.cache")),
        ("lib/models/surgery.py", ("lib.models.load", "lib.models.checkpoint", "lib.models.cache")),
        ("lib/models/cache.py", ("lib.models.load",)),
        ("lib/runtimes/configs.py", ("lib.techniques", "torch")),
        ("lib/runtimes/registry.py", ("lib.techniques",)),  # torch: for type hints only
        ("lib/techniques/configs.py", ("torch", "transformers", "numpy")),
        ("lib/techniques/grammar.py", ("torch", "transformers", "numpy")),
    ],
)
def test_dependencies_run_one_way(module, forbidden):
    imports = _imports(ROOT / module)
    bad = sorted(i for i in imports if any(i == f or i.startswith(f + ".") for f in forbidden))
    assert not bad, f"{module} imports {bad}"

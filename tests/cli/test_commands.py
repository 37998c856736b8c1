"""The CLI's structure: an explicit list of commands, each importable with a working --help,
errors handled once in ``lib.cli.base``, and no way for a broken command to vanish quietly."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from lib.cli import base
from lib.errors import UserError

ROOT = Path(__file__).resolve().parents[2]
CLI_DIR = ROOT / "lib" / "cli"
EXPECTED = {
    "run",
    "load-test",
    "sweep",
    "runs",
    "show",
    "cost",
    "report",
    "worker",
    "curve",
    "long-docs",
    "access",
}


def python(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )


def test_commands_are_an_explicit_list_one_module_each():
    from lib.cli.main import COMMANDS

    assert isinstance(COMMANDS, list)
    assert {c.name for c in COMMANDS} == EXPECTED and len(COMMANDS) == len(EXPECTED)
    for command in COMMANDS:
        assert isinstance(command, base.Command)
        # a command's module is its name, a dash written as an underscore (load-test)
        assert type(command).__module__ == f"lib.cli.{command.name.replace('-', '_')}"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_command_imports_and_has_help(name):
    out = python("-m", "lib", name, "--help")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(f"usage: python -m lib {name}")


def test_top_level_help_lists_the_public_commands_only():
    out = python("-m", "lib", "--help")
    assert out.returncode == 0, out.stderr
    for name in EXPECTED - {"worker"}:
        assert f"\n    {name} " in out.stdout
    assert "SUPPRESS" not in out.stdout and "\n    worker" not in out.stdout


@pytest.mark.parametrize("broken", ["lib.cli.cost", "lib.cli.report", "lib.cli.run"])
def test_a_command_module_that_fails_to_import_breaks_the_cli_loudly(broken):
    # sys.modules[name] = None makes "import name" raise ModuleNotFoundError.
    code = (
        "import runpy, sys\n"
        f"sys.modules[{broken!r}] = None\n"
        "sys.argv = ['lib', '--help']\n"
        "runpy.run_module('lib', run_name='__main__')\n"
    )
    out = python("-c", code)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "Traceback" in out.stderr and "ModuleNotFoundError" in out.stderr
    assert broken in out.stderr


def _handlers(tree: ast.AST) -> list[str]:
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ExceptHandler) and node.type is not None:
            types = node.type.elts if isinstance(node.type, ast.Tuple) else [node.type]
            names += [ast.unparse(t) for t in types]
    return names


def _lib_cli_imports(tree: ast.AST) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "lib.cli":
                found |= {f"lib.cli.{a.name}" for a in node.names}
            elif node.module.startswith("lib.cli."):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("lib.cli")}
    return found


def test_no_import_error_is_swallowed_and_imports_point_one_way():
    for path in sorted(CLI_DIR.glob("*.py")):
        tree = ast.parse(path.read_text())
        caught = _handlers(tree)
        assert not {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"} & set(
            caught
        ), f"{path.name} catches {caught}"
        imports = _lib_cli_imports(tree)
        if path.stem in ("base", "args", "__init__"):
            assert imports == set(), f"{path.name} imports {imports}"
        elif path.stem != "main":
            assert imports <= {"lib.cli.base", "lib.cli.args"}, f"{path.name} imports {imports}"


def test_building_the_parser_imports_nothing_heavy():
    code = (
        "import sys\n"
        "from lib.cli.main import build_parser\n"
        "build_parser().parse_args(['runs'])\n"
        "heavy = {'torch', 'pandas', 'transformers', 'sqlalchemy'} & set(sys.modules)\n"
        "print(sorted(heavy))\n"
    )
    out = python("-c", code)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


# --- error handling, once, in lib.cli.base ---------------------------------------------------


class Boom(base.Command):
    name = "boom"
    help = "raise what --what says"

    def add_arguments(self, parser):
        parser.add_argument("--what", choices=["user", "interrupt", "bug", "none"], required=True)

    def run(self, args):
        if args.what == "user":
            raise UserError("That input is wrong: fix it.")
        if args.what == "interrupt":
            raise KeyboardInterrupt
        if args.what == "bug":
            raise RuntimeError("a bug")
        return 0


def test_user_error_is_one_line_and_exit_2(capsys):
    assert base.main([Boom()], ["boom", "--what", "user"]) == 2
    assert capsys.readouterr().err == "error: That input is wrong: fix it.\n"


def test_interrupt_is_exit_130_with_a_line(capsys):
    assert base.main([Boom()], ["boom", "--what", "interrupt"]) == 130
    assert capsys.readouterr().err == base.INTERRUPTED + "\n"


def test_any_other_exception_propagates():
    with pytest.raises(RuntimeError, match="a bug"):
        base.main([Boom()], ["boom", "--what", "bug"])


def test_success_and_bad_arguments(capsys):
    assert base.main([Boom()], ["boom", "--what", "none"]) == 0
    with pytest.raises(SystemExit) as exc:
        base.main([Boom()], ["boom", "--what", "other"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: argument --what") and err.count("\n") == 1


def test_duplicate_command_names_are_refused():
    with pytest.raises(ValueError, match="Duplicate"):
        base.build_parser([Boom(), Boom()])


def _imported_names(tree: ast.AST) -> list[tuple[str, str | None]]:
    pairs: list[tuple[str, str | None]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            pairs += [(node.module, a.name) for a in node.names]
        elif isinstance(node, ast.Import):
            pairs += [(a.name, None) for a in node.names]
    return pairs


@pytest.mark.parametrize("path", sorted(CLI_DIR.glob("*.py")), ids=lambda p: p.name)
def test_every_import_in_a_command_resolves_even_the_lazy_ones(path):
    """Commands import heavy things inside ``run``; a moved module must fail here, not later."""
    import importlib.util

    for module, name in _imported_names(ast.parse(path.read_text())):
        if not module.startswith("lib"):
            continue
        mod = importlib.import_module(module)
        if name is not None:
            assert hasattr(mod, name) or importlib.util.find_spec(f"{module}.{name}"), (
                f"{path.name}: from {module} import {name}"
            )

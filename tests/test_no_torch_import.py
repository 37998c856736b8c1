"""Parsing, validating and describing variants never imports torch or transformers.

Specs are read by the CLI and every page; only building and measuring a variant needs the heavy
libraries. Each check runs in a fresh interpreter, where nothing else has imported them yet.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = """
import json, sys
import lib.spec
import lib.techniques
import lib.runtimes
from lib.demo.story import explain_variant
from lib.results.advice import runtime_sentences
from lib.runtimes import registry

spec = lib.spec.RunSpec.from_dict({
    "variants": ["fp32", "distill:3+int8@ort", "prune-structured:30/norecover+half@compile",
                 "int8:per-channel", "student:minilm-l6"],
})
v = lib.techniques.parse_variant("distill:3/T=3+prune-unstructured:50+int8@ort")
found = lib.techniques.techniques()
assert {"fp32", "half", "int8", "distill", "prune-structured"} <= set(found), found
assert found["int8"].summary and found["distill"].param_help
assert set(registry.runtimes()) == {"eager", "ort", "compile", "openvino"}
assert registry.runtimes()["ort"].summary
assert set(runtime_sentences()) == set(lib.runtimes.RUNTIMES)
assert "Distilled to 3 layers" in explain_variant("distill:3+int8@ort")

class Config:
    num_hidden_layers = 6

lib.techniques.check_against_model(v, Config())
lib.techniques.BuildContext(base_path="", tokenizer=None, train=None)
heavy = sorted(m for m in ("torch", "transformers", "onnxruntime", "numpy") if m in sys.modules)
print(json.dumps({"heavy": heavy, "variants": spec.variants, "runtime": v.runtime}))
"""


def run_isolated(code: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_parsing_a_spec_and_listing_techniques_and_runtimes_imports_no_torch():
    got = run_isolated(SCRIPT)
    assert "torch" not in got["heavy"]
    assert "transformers" not in got["heavy"]
    assert got["runtime"] == "ort"
    assert "distill:3+int8@ort" in got["variants"]


@pytest.mark.parametrize(
    "module",
    [
        "lib.techniques",
        "lib.techniques.configs",
        "lib.techniques.grammar",
        "lib.techniques.registry",
        "lib.runtimes",
        "lib.runtimes.configs",
        "lib.runtimes.registry",
        "lib.measure.expectations",
    ],
)
def test_module_imports_no_torch(module):
    got = run_isolated(
        f"import json, sys, {module}\n"
        "print(json.dumps({'heavy': [m for m in ('torch', 'transformers') if m in sys.modules]}))"
    )
    assert got["heavy"] == []

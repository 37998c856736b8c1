"""Building what a (model, dataset) pair's runs share, once, on one node: the bundle.

Runs inside a Ray task (``lib.sweep.dispatch``) that holds a node like a measurement does, so
training never disturbs a timing. The adapted baseline is prepared as a run prepares it
(``lib.training.adapt``, cached on that node); each variant's chain is then applied to it once
with a build cache folder of its own, so that folder ends up holding exactly the trained steps'
results (distilled students, pruned-and-recovered models) that the nodes must not train again.
A variant that cannot be built is reported (it fails the same way when measured).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from lib import datasets
from lib.measure import environment
from lib.paths import user_dir
from lib.spec import RunSpec
from lib.sweep.bundle import BundleFacts, pack
from lib.sweep.identity import is_local


def build_bundle(
    spec_dict: dict[str, Any], build_key: str, node: dict[str, Any]
) -> tuple[bytes, dict[str, Any]]:
    """The bundle of ``spec_dict``'s model and dataset (any run of the pair), and its facts.
    Holds the machine's run lock while it trains, like a measurement."""
    from lib.execution import jobs

    spec = RunSpec.from_dict(spec_dict)
    with jobs.device_lock(jobs.lock_device_name(spec.measure.device)):
        return _build(spec, build_key, node)


def _build(spec: RunSpec, build_key: str, node: dict[str, Any]) -> tuple[bytes, dict[str, Any]]:
    from lib.execution.runner import resolve_device
    from lib.models.cache import META_FILE
    from lib.training import adapt

    start = time.perf_counter()
    try:
        device = resolve_device(spec.measure.device)
    except Exception:  # noqa: BLE001 - no GPU on the build node: train on its CPU
        device = "cpu"
    data = datasets.load(spec.dataset)
    train, _ = datasets.split(
        data, spec.dataset.train_limit, spec.dataset.eval_limit, spec.dataset.seed
    )
    # what is trained here records this node as where it ran (its one-off cost is priced there)
    machine = environment.machine_facts(environment.capture(device))
    baseline = adapt.prepare_baseline(
        spec.model, spec.dataset, train, spec.adapt, device=device, built_on=machine
    )
    cache_dir = user_dir() / "sweep" / "builds" / build_key
    cache_dir.mkdir(parents=True, exist_ok=True)
    failures = build_variants(
        baseline.path, train, spec.variants, spec.dataset.seed, device, cache_dir, machine
    )
    entries = [p for p in sorted(cache_dir.iterdir()) if p.is_dir() and (p / META_FILE).exists()]
    base = Path(baseline.path)
    facts = BundleFacts(
        baseline_location="" if base.is_dir() else baseline.path,
        adapted=baseline.adapted,
        adapt_seconds=baseline.train_seconds,
        adapt_steps=baseline.train_steps,
        head=baseline.head,
        built_on=node,
        failures=failures,
    )
    source = spec.dataset.source
    data_file = Path(source).expanduser() if is_local(source) else None
    blob = pack(base if base.is_dir() else None, entries, data_file, facts)
    facts.build_seconds = time.perf_counter() - start
    return blob, facts.to_dict()


def build_variants(
    base_path: str,
    train,
    variants: list[str],
    seed: int,
    device: str,
    cache_dir: Path,
    machine: dict[str, Any] | None = None,
) -> dict[str, str]:
    """Apply each variant's chain to a fresh copy of the baseline with ``cache_dir`` as the
    build cache; returns ``{variant: reason}`` for those that could not be built."""
    from lib.models import load as models
    from lib.techniques import BuildContext, apply_chain, parse_variant

    failures = {}
    for text in variants:
        variant = parse_variant(text)
        if not variant.steps:
            continue
        try:
            tokenizer = models.load_tokenizer(base_path)
            model = models.load_classifier(base_path).to(device)
            ctx = BuildContext(
                base_path=base_path,
                tokenizer=tokenizer,
                train=train,
                device=device,
                seed=seed,
                cache_dir=cache_dir,
                runtime=variant.runtime,
                machine=dict(machine or {}),
            )
            apply_chain(model, variant, ctx)
        except Exception as exc:  # noqa: BLE001 - reported; the variant fails when measured too
            failures[text] = f"{type(exc).__name__}: {exc}"
    return failures

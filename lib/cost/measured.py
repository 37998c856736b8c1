"""Throughput a sweep measured on a catalogue machine kind: priced as measured, not projected.

A sweep (``lib.sweep``) stamps every run with the machine kind its node was labelled with
(``environment.cluster.target``: ``leanbench.hardware=c7i`` on ``ray start``), the node's host and
its CPU count. A catalogue row is that machine kind when the label names it:

- exactly: ``c7i.2xlarge`` is the row ``c7i.2xlarge``; ``L4 (owned)`` or ``l4-owned`` the owned L4;
- by family: ``c7i`` is every ``c7i.*`` row with as many vCPUs as the node had CPUs (the node
  was the whole instance), so a 8-CPU ``c7i`` node is ``c7i.2xlarge`` and not ``c7i.xlarge``;
- by accelerator: ``l4`` (or Ray's accelerator type ``L4``) is every row with one L4.

CPU rows take CPU measurements, accelerator rows GPU ones. The label is trusted: it is what the
team said the node is, whatever its CPU model string reads like.
"""

from __future__ import annotations

import re

from lib.cost.hardware import HardwareOption, Throughput
from lib.cost.projection import Measurement, hardware_key, pick_batch


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9.]+", "-", str(text or "").lower()).strip("-")


def option_matches(option: HardwareOption, m: Measurement) -> bool:
    """Whether the machine kind that measured ``m`` is the catalogue row ``option``."""
    if not m.machine or m.is_gpu != bool(option.accelerator_model):
        return False
    label = _norm(m.machine)
    name = _norm(option.name)
    if label == name or label == _norm(option.name.replace("(owned)", "owned")):
        return True
    if option.kind == "cloud" and "." in option.name and label == _norm(option.name.split(".")[0]):
        return m.node_cpus is not None and option.vcpus is not None and m.node_cpus == option.vcpus
    if option.accelerator_model and option.accelerator_count <= 1:
        return hardware_key(m.machine) == hardware_key(option.accelerator_model)
    return False


def measured_on(
    option: HardwareOption, runs: list[Measurement], latency_target_ms: float | None
) -> Throughput | None:
    """The throughput a sweep measured on ``option``'s machine kind (the best of its runs at
    the batch that meets the latency target), labelled "measured on <host>"; None when no run
    was measured there."""
    same = [m for m in runs if m.throughput_per_s and option_matches(option, m)]
    if not same:
        return None
    best = None
    for m in same:
        picked = pick_batch(m.throughput_per_s, m.latency_ms, latency_target_ms)
        if best is None or (picked[3], picked[1]) > (best[1][3], best[1][1]):
            best = (m, picked)
    assert best is not None
    m, (b, tput, lat, meets) = best
    note = f"measured on {m.host or 'a sweep node'} ({m.machine} node, run {m.run_id}) at batch {b}"
    return Throughput(tput, b, lat, meets, "measured", note, measurement=m)

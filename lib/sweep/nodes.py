"""The cluster's nodes by machine kind, and how a task is placed to hold one node whole.

A node serves the target ``c7i`` when it was started with ``--labels leanbench.hardware=c7i``;
a GPU target may also be the accelerator type Ray detects by itself (``ray.io/accelerator-type``,
e.g. ``L4``). Nothing else is asked of whoever starts a node.

Placement (``placement``): a task is pinned to one chosen node (the label selector names its
kind and its ``ray.io/node-id``) and asks for

- the node's **benchmark slot**: the node's own resource ``node:<ip>``, which Ray gives every
  node with a capacity of exactly 1; asking for all of it means no other Leanbench task (from
  this sweep or another driver) can be placed on the node at the same time;
- **all the node's CPUs and GPUs**, so no other Ray task that needs a CPU or GPU runs beside it.

Leanbench derives both from ``ray.nodes()`` when it submits the task; the driver keeps one task
per node in flight. Ray's own task retries are off (``max_retries=0``): a retry of a task pinned
to a node that died could only go back to that node, so the driver re-places it on another node
of the same kind (``lib.sweep.dispatch``).

Pure functions over ``Node`` records, except ``alive_nodes`` (which asks Ray).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from lib.errors import UserError
from lib.sweep.spec import LABEL_KEY

NODE_ID_LABEL = "ray.io/node-id"
ACCELERATOR_LABEL = "ray.io/accelerator-type"


@dataclass(frozen=True)
class Node:
    """One Ray node as the scheduler sees it."""

    node_id: str
    ip: str
    labels: dict[str, str] = field(default_factory=dict, hash=False)
    cpus: float = 0.0
    gpus: float = 0.0
    hostname: str = ""

    @classmethod
    def from_ray(cls, entry: dict[str, Any]) -> Node:
        """A node from one entry of ``ray.nodes()``."""
        resources = entry.get("Resources") or {}
        return cls(
            node_id=str(entry["NodeID"]),
            ip=str(entry.get("NodeManagerAddress") or ""),
            labels={str(k): str(v) for k, v in (entry.get("Labels") or {}).items()},
            cpus=float(resources.get("CPU", 0.0)),
            gpus=float(resources.get("GPU", 0.0)),
            hostname=str(entry.get("NodeManagerHostname") or ""),
        )

    @property
    def kind(self) -> str:
        """Its ``leanbench.hardware`` label, else its accelerator type, else ""."""
        return self.labels.get(LABEL_KEY) or self.labels.get(ACCELERATOR_LABEL) or ""

    @property
    def short_id(self) -> str:
        return self.node_id[:8]

    @property
    def slot_resource(self) -> str:
        """The node's benchmark slot: Ray's per-node resource, capacity 1 on every node."""
        return f"node:{self.ip}"

    def serves(self, target: str) -> bool:
        """Whether runs for the machine kind ``target`` may run here."""
        return self.labels.get(LABEL_KEY) == target or self.labels.get(ACCELERATOR_LABEL) == target

    def selector_for(self, target: str) -> dict[str, str]:
        """The label selector that places a task for ``target`` on this node and no other."""
        key = LABEL_KEY if self.labels.get(LABEL_KEY) == target else ACCELERATOR_LABEL
        return {key: target, NODE_ID_LABEL: self.node_id}

    def describe(self) -> str:
        where = self.hostname or self.ip
        return f"{self.kind or 'unlabelled'} node {self.short_id} ({where}, {self.cpus:g} CPUs)"


def alive_nodes() -> list[Node]:
    """The cluster's live nodes (needs ``ray.init`` first)."""
    import ray

    return [Node.from_ray(n) for n in ray.nodes() if n.get("Alive")]


def nodes_for(target: str, nodes: list[Node]) -> list[Node]:
    """The nodes that serve ``target``, most CPUs first (then by id, so the order is stable)."""
    return sorted((n for n in nodes if n.serves(target)), key=lambda n: (-n.cpus, n.node_id))


def offered_kinds(nodes: list[Node]) -> Counter:
    """How many nodes offer each machine kind (unlabelled nodes not counted)."""
    return Counter(n.kind for n in nodes if n.kind)


def check_targets(targets: list[str], nodes: list[Node]) -> None:
    """``UserError`` at once, naming every target no live node serves and what the cluster
    offers, instead of tasks left pending forever."""
    missing = [t for t in targets if not nodes_for(t, nodes)]
    if not missing:
        return
    offered = offered_kinds(nodes)
    have = (
        ", ".join(f"{k} ({n} node{'s' if n > 1 else ''})" for k, n in sorted(offered.items()))
        if offered
        else "no labelled node at all"
    )
    names = ", ".join(f"'{t}'" for t in missing)
    raise UserError(
        f"No node of the cluster serves {names}: it offers {have}. Start one with "
        f"`ray start --address HEAD:6379 --labels {LABEL_KEY}={missing[0]}`, or drop the target."
    )


def shared_machines(nodes: list[Node]) -> list[str]:
    """Addresses that hold more than one of ``nodes``: their timings can disturb each other
    (one Ray node per machine keeps them apart)."""
    counts = Counter(n.ip for n in nodes)
    return sorted(ip for ip, n in counts.items() if n > 1)


def placement(node: Node, target: str) -> dict[str, Any]:
    """The Ray task options that place a measurement for ``target`` on ``node``, holding it
    whole: its benchmark slot, all its CPUs and GPUs; Ray's own retries off."""
    return {
        "num_cpus": node.cpus,
        "num_gpus": node.gpus,
        "resources": {node.slot_resource: 1.0},
        "label_selector": node.selector_for(target),
        "max_retries": 0,
        "retry_exceptions": False,
    }

"""Nodes by machine kind and the placement that holds one node whole (no Ray needed)."""

from __future__ import annotations

import pytest

from lib.errors import UserError
from lib.sweep.nodes import Node, check_targets, nodes_for, placement, shared_machines


def node(i: str, kind: str | None, ip: str = "10.0.0.1", cpus: float = 8, accel: str = "") -> Node:
    labels = {"ray.io/node-id": i}
    if kind:
        labels["leanbench.hardware"] = kind
    if accel:
        labels["ray.io/accelerator-type"] = accel
    return Node(node_id=i, ip=ip, labels=labels, cpus=cpus, gpus=1 if accel else 0)


NODES = [
    node("head", None, "10.0.0.9", cpus=0),
    node("a1", "c7i", "10.0.0.1"),
    node("a2", "c7i", "10.0.0.2", cpus=16),
    node("b1", "c6g", "10.0.0.3"),
    node("g1", "gpu-box", "10.0.0.4", accel="L4"),
]


def test_a_target_is_a_label_or_an_accelerator_type():
    assert [n.node_id for n in nodes_for("c7i", NODES)] == ["a2", "a1"]  # most CPUs first
    assert [n.node_id for n in nodes_for("L4", NODES)] == ["g1"]
    assert nodes_for("gpu-box", NODES)[0].node_id == "g1"
    assert nodes_for("m7g", NODES) == []


def test_a_missing_target_fails_at_once_naming_what_is_offered():
    check_targets(["c7i", "c6g", "L4"], NODES)
    with pytest.raises(UserError) as exc:
        check_targets(["c7i", "m7g", "a100"], NODES)
    text = str(exc.value)
    assert "'m7g'" in text and "'a100'" in text and "c7i (2 nodes)" in text
    assert "ray start --address" in text and "leanbench.hardware=m7g" in text


def test_placement_holds_the_whole_node_and_pins_it():
    opts = placement(NODES[1], "c7i")
    assert opts["num_cpus"] == 8 and opts["num_gpus"] == 0
    assert opts["resources"] == {"node:10.0.0.1": 1.0}  # the node's one slot
    assert opts["label_selector"] == {"leanbench.hardware": "c7i", "ray.io/node-id": "a1"}
    assert opts["max_retries"] == 0  # the driver re-places on another node of the kind
    gpu = placement(NODES[4], "L4")
    assert gpu["num_gpus"] == 1
    assert gpu["label_selector"] == {"ray.io/accelerator-type": "L4", "ray.io/node-id": "g1"}


def test_nodes_sharing_a_machine_are_named():
    assert shared_machines(NODES) == []
    assert shared_machines([*NODES, node("a3", "c7i", "10.0.0.1")]) == ["10.0.0.1"]


def test_node_from_ray_entry():
    n = Node.from_ray(
        {
            "NodeID": "abc",
            "Alive": True,
            "NodeManagerAddress": "10.1.1.1",
            "NodeManagerHostname": "box",
            "Labels": {"leanbench.hardware": "c7i"},
            "Resources": {"CPU": 4.0, "node:10.1.1.1": 1.0},
        }
    )
    assert (n.kind, n.cpus, n.gpus, n.slot_resource) == ("c7i", 4.0, 0.0, "node:10.1.1.1")
    assert "c7i node abc" in n.describe()

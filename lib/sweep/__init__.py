"""Sweeps: a matrix of runs (models x datasets x target machine kinds) on a Ray cluster.

- ``spec``: the sweep spec (plain dataclasses, JSON) and its expansion into one run per
  (model, dataset, machine kind), each with an idempotent key. Imports no torch.
- ``nodes``: the cluster's nodes by their ``leanbench.hardware`` label, and how a task is placed
  so that it holds one node whole (its slot, all its CPUs and GPUs).
- ``bundle``: the adapted baseline and trained variants packed once, installed on each node.
- ``build`` / ``task``: what runs on a node: building the bundle; measuring one run.
- ``dispatch``: the driver's loop: one task per free node, retries on another node of the same
  kind when a node dies, every state in the store.
- ``session``: connecting to the cluster (or starting Ray on this machine).
- ``progress``: a sweep's progress per node, for the Sweep page and the CLI.
- ``background``: a sweep started from the page, in a detached process.
"""

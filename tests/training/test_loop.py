"""lib.training.loop: the batching that keeps padding small."""

from __future__ import annotations

import numpy as np

from lib.training.loop import _grouped_batches


def test_grouped_batches_cover_every_example_once_with_similar_lengths():
    rng = np.random.default_rng(0)
    lengths = rng.integers(5, 60, size=1000)
    batches = _grouped_batches(np.random.default_rng(1), lengths, 16)
    flat = np.concatenate(batches)
    assert sorted(flat.tolist()) == list(range(1000))  # one pass, nothing twice, nothing lost
    assert all(len(b) <= 16 for b in batches)
    # Padding is what a batch wastes: its longest text times its size, minus the real tokens.
    grouped = sum(lengths[b].max() * len(b) - lengths[b].sum() for b in batches)
    perm = np.random.default_rng(1).permutation(1000)
    shuffled = sum(
        lengths[perm[i : i + 16]].max() * 16 - lengths[perm[i : i + 16]].sum()
        for i in range(0, 1000, 16)
    )
    assert grouped < shuffled / 5
    # ...and the order of batches is still random, not longest first.
    maxima = [lengths[b].max() for b in batches]
    assert maxima != sorted(maxima, reverse=True)

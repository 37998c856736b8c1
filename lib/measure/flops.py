"""FLOPs of one forward pass, counted with ``torch.utils.flop_counter.FlopCounterMode``.

Measured for every variant (``flops_per_item``, ``num_layers`` in its result), so the cost
projection (``lib.cost.projection``) can scale by them without importing torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lib.errors import UserError


@dataclass(frozen=True)
class FlopProfile:
    """FLOPs of one forward pass, per item, with the shapes that produced them."""

    flops_per_item: float
    batch_size: int
    seq_len: int
    n_layers: int | None
    params: int


def layer_count(model: Any) -> int | None:
    """Layers a forward pass runs through: the family's adapter counts them (ALBERT runs its
    one shared layer many times); the config's count for a family without one."""
    from lib.models import families

    config = getattr(model, "config", None)
    adapter = families.for_config(config)
    if adapter is not None:
        try:
            return adapter.n_layers(model)
        except UserError:
            pass  # its layers are not where the adapter looks: fall back to the config
    n_layers = getattr(config, "num_hidden_layers", None) or getattr(config, "n_layers", None)
    return int(n_layers) if n_layers else None


def count_flops(model: Any, batch_size: int = 1, seq_len: int = 128) -> FlopProfile:
    """Count FLOPs of ``model`` on dummy ``input_ids``/``attention_mask`` (matmuls, attention).

    Runs one real forward pass on the model's device under ``torch.no_grad``; FLOPs of a
    BERT-style encoder grow linearly with batch size, so the per-item figure holds at any batch.
    """
    import torch
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode

    if batch_size < 1 or seq_len < 1:
        raise UserError("Batch size and sequence length must be at least 1.")
    params = list(model.parameters())
    device = params[0].device if params else torch.device("cpu")
    input_ids = torch.ones((batch_size, seq_len), dtype=torch.long, device=device)
    attention_mask = torch.ones((batch_size, seq_len), dtype=torch.long, device=device)
    was_training = model.training
    model.eval()
    # Dynamically quantized Linear layers run ops the counter has no formula for; they do the
    # same multiply-adds as the float layer, so count them by hand.
    quantized_flops = [0]

    def _count_quantized(module, inputs, output) -> None:
        tokens = inputs[0].numel() // module.in_features
        quantized_flops[0] += 2 * tokens * module.in_features * module.out_features

    hooks = [
        m.register_forward_hook(_count_quantized)
        for m in model.modules()
        if "quantized" in type(m).__module__ and hasattr(m, "in_features")
    ]
    try:
        # The math SDPA backend runs attention as plain matmuls the counter sees; the fused CPU
        # kernel has no FLOP formula and its attention FLOPs would be missed.
        with (
            torch.no_grad(),
            sdpa_kernel(SDPBackend.MATH),
            FlopCounterMode(display=False) as counter,
        ):
            model(input_ids=input_ids, attention_mask=attention_mask)
    finally:
        model.train(was_training)
        for h in hooks:
            h.remove()
    return FlopProfile(
        flops_per_item=(counter.get_total_flops() + quantized_flops[0]) / batch_size,
        batch_size=batch_size,
        seq_len=seq_len,
        n_layers=layer_count(model),
        params=sum(p.numel() for p in params),
    )

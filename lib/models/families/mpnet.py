"""MPNet: ``encoder.layer[i].attention.attn.{q,k,v,o}``, ``intermediate.dense``, ``output.dense``.

The encoder computes one relative position bias, one slice per head, and adds it to the scores
of every layer; a layer that lost heads must add only its kept heads' slices. The kept heads'
original indices are a buffer of the attention module (saved with the weights, so a pruned model
loads back the same), and a forward pre-hook selects them from the bias the encoder passes in.
"""

from __future__ import annotations

from lib.models.families.base import FamilyAdapter, Projection, get_path

KEPT_HEADS = "leanbench_kept_heads"


def _select_kept_heads(module, args, kwargs):
    """MPNetAttention calls ``attn(hidden, mask, position_bias, ...)``: the bias is args[2]."""
    kept = getattr(module, KEPT_HEADS)
    if len(args) > 2 and args[2] is not None:
        args = (*args[:2], args[2].index_select(1, kept), *args[3:])
    elif kwargs.get("position_bias") is not None:
        kwargs = {**kwargs, "position_bias": kwargs["position_bias"].index_select(1, kept)}
    return args, kwargs


class MPNet(FamilyAdapter):
    name = "MPNet"
    model_types = ("mpnet",)
    examples = "all-mpnet-base-v2 and its fine-tunes, mpnet-base"
    layers_path = "encoder.layer"
    attention = "attention.attn"
    head_inputs = (
        Projection("attention.attn.q"),
        Projection("attention.attn.k"),
        Projection("attention.attn.v"),
    )
    head_output = "attention.attn.o"
    ffn_inputs = (Projection("intermediate.dense"),)
    ffn_output = "output.dense"

    def after_heads_pruned(self, layer, keep: list[int]) -> None:
        import torch

        attn = get_path(layer, self.attention)
        previous = getattr(attn, KEPT_HEADS, None)
        index = torch.as_tensor(keep, dtype=torch.long, device=attn.q.weight.device)
        if previous is None:
            attn.register_buffer(KEPT_HEADS, index)
            attn.register_forward_pre_hook(_select_kept_heads, with_kwargs=True)
        else:  # pruned again: indices into the heads that were left
            setattr(attn, KEPT_HEADS, previous[index])

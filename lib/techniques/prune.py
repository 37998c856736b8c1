"""Pruning: zeroing weights (unstructured) or removing whole heads and neurons (structured).

- ``prune-unstructured:<percent>``: global magnitude pruning of the encoder's Linear weights
  (``torch.nn.utils.prune.global_unstructured``, then ``prune.remove`` so it is permanent). The
  matrices keep their shape: dense kernels multiply the zeros like any other number, so it is not
  faster; it only pays off stored compressed or on sparse hardware. We report the sparsity
  reached and the size the weights would take stored sparse.
- ``prune-structured:<percent>[/option...]``: per layer, removes the least important
  ``percent`` of attention heads (at least one kept) and of feed-forward neurons (kept width
  rounded down to a multiple of 16, which CPU kernels run faster), so the matrices really shrink.
  Importance is |activation x gradient| per head and neuron on calibration batches of the train
  split (Michel et al. 2019); ``magnitude`` ranks by weight norms instead. A short recovery
  fine-tune, distilled from the unpruned model's outputs, follows unless ``norecover``.

Options of ``prune-structured`` follow the percentage, separated by ``/``: ``magnitude``,
``norecover``, ``recover=<seconds>`` (recovery time budget, default 120).
"""

from __future__ import annotations

import copy
import time

import numpy as np
import torch
import torch.nn.functional as F

from lib.errors import UserError
from lib.models import cache, families, surgery
from lib.techniques.configs import MAX_LENGTH, int_param, structured_settings
from lib.techniques.context import BuildContext
from lib.training.loop import RECIPE, tokenize

CALIBRATION_EXAMPLES = 512
CALIBRATION_BATCH = 32
ALIGN = 16  # kept feed-forward width rounded down to a multiple of this


def _require_fp32(ctx: BuildContext, what: str) -> None:
    if ctx.precision != "fp32":
        raise UserError(f"{what} needs the 32-bit model; put {ctx.precision} after this step")


# ---------------------------------------------------------------- unstructured
def _encoder_linears(model) -> list[tuple[str, torch.nn.Linear]]:
    """The Linear layers of the transformer layers (the family's adapter finds them); for a
    family without an adapter, all but the classification head."""
    adapter = families.for_config(getattr(model, "config", None))
    if adapter is not None:
        return adapter.linears(model)
    encoder = getattr(getattr(model, "base_model", model), "encoder", None)
    if encoder is not None:
        return [(n, m) for n, m in encoder.named_modules() if isinstance(m, torch.nn.Linear)]
    return [
        (n, m)
        for n, m in model.named_modules()
        if isinstance(m, torch.nn.Linear) and not _is_head(n)
    ]


def _is_head(name: str) -> bool:
    return name.split(".")[0] in ("classifier", "score", "pre_classifier")


def apply_unstructured(model, param, ctx: BuildContext):
    _require_fp32(ctx, "prune-unstructured")
    percent = int_param(param, name="prune-unstructured", low=0, high=99)
    linears = _encoder_linears(model)
    if not linears:
        raise UserError("found no Linear layers to prune")
    from torch.nn.utils import prune

    if percent > 0:
        targets = [(m, "weight") for _, m in linears]
        prune.global_unstructured(
            targets, pruning_method=prune.L1Unstructured, amount=percent / 100
        )
        for m, _ in targets:
            prune.remove(m, "weight")  # permanent: the mask is folded into the weight
    weights = [m.weight for _, m in linears]
    zero_w = sum(int((w == 0).sum()) for w in weights)
    total_w = sum(w.numel() for w in weights)
    params = list(model.parameters())
    zero_all = sum(int((p == 0).sum()) for p in params)
    total_all = sum(p.numel() for p in params)
    sparse_bytes = sum(_sparse_bytes(t) for t in model.state_dict().values())
    ctx.notes.update(
        {
            "sparsity_pruned_weights": zero_w / total_w,
            "sparsity_all_params": zero_all / total_all,
            "pruned_weights": total_w,
            "size_mb_sparse": sparse_bytes / 1e6,
            "sparse_format": "each tensor as the smallest of dense, CSR with 32-bit indices, "
            "or a bitmap plus the non-zero values (estimate)",
            "speed_note": "the matrices keep their shape and dense kernels multiply the zeros: "
            "no speed-up is expected",
        }
    )
    return model


def _sparse_bytes(t: torch.Tensor) -> int:
    """Bytes to store a tensor in the smallest of three plain formats."""
    size = t.element_size()
    dense = t.numel() * size
    if t.dim() != 2 or not t.is_floating_point():
        return dense
    nnz = int((t != 0).sum())
    csr = nnz * (size + 4) + (t.shape[0] + 1) * 4
    bitmap = nnz * size + (t.numel() + 7) // 8
    return min(dense, csr, bitmap)


# ---------------------------------------------------------------- structured
def kept_counts(n_heads: int, width: int, percent: int) -> tuple[int, int]:
    """Heads and feed-forward neurons a layer keeps when ``percent`` of each is removed."""
    if percent == 0:
        return n_heads, width
    heads = max(1, n_heads - int(round(n_heads * percent / 100)))
    neurons = max(1, int(width * (100 - percent) / 100))
    if neurons >= ALIGN:
        neurons = neurons // ALIGN * ALIGN
    return heads, neurons


def apply_structured(model, param, ctx: BuildContext):
    _require_fp32(ctx, "prune-structured")
    percent, magnitude, recover_s = structured_settings(param)
    adapter = surgery.adapter_for(model, "prune-structured")
    layers = adapter.checked_layers(model)
    params_before = sum(p.numel() for p in model.parameters())
    if percent == 0:
        ctx.notes["heads_per_layer"] = [adapter.heads(layer) for layer in layers]
        return model

    has_data = ctx.train is not None and len(ctx.train) > 0
    entry = None
    settings = {
        "percent": percent,
        "magnitude": magnitude or not has_data,
        "recover_s": recover_s,
        "calibration": CALIBRATION_EXAMPLES,
        "align": ALIGN,
        "seed": ctx.seed,
    }
    if ctx.cache_dir is not None and has_data:
        ctx.report(0.0, "checking the cache")
        entry = cache.cache_entry(
            ctx.cache_dir,
            "pruned",
            {
                "model": cache.model_fingerprint(model),
                "settings": settings,
                "train": ctx.train.fingerprint(),
                "recipe": RECIPE,
            },
        )
        cached = cache.reuse_cached(entry, ctx)
        if cached is not None:
            return cached

    teacher = copy.deepcopy(model) if recover_s > 0 and has_data else None
    t0 = time.perf_counter()
    if magnitude or not has_data:
        ctx.report(0.05, "ranking heads and neurons by weight magnitude")
        head_scores, neuron_scores = _magnitude_importance(adapter, layers)
        method = "weight magnitude" + ("" if magnitude else " (no train data for gradients)")
    else:
        head_scores, neuron_scores = _gradient_importance(model, adapter, layers, ctx)
        method = "|activation x gradient| on calibration batches (Michel et al. 2019)"
    importance_s = time.perf_counter() - t0

    for layer, hs, ns in zip(layers, head_scores, neuron_scores, strict=True):
        n_heads, width = kept_counts(len(hs), len(ns), percent)
        keep_heads = sorted(np.argsort(-hs, kind="stable")[:n_heads].tolist())
        keep_neurons = sorted(np.argsort(-ns, kind="stable")[:width].tolist())
        surgery.prune_layer(adapter, layer, keep_heads, keep_neurons)
    widths = adapter.widths(model)
    setattr(model.config, surgery.PRUNED_KEY, widths)
    params_after = sum(p.numel() for p in model.parameters())
    notes = {
        "pruned_percent": percent,
        "importance": method,
        "importance_seconds": importance_s,
        "heads_per_layer": widths["heads"],
        "intermediate_per_layer": widths["intermediate"],
        "params_before": params_before,
        "params_after": params_after,
    }

    if teacher is not None:
        from lib.training.loop import train_distilled

        ctx.report(0.3, f"recovery fine-tune (up to {recover_s:.0f} s)")
        report = train_distilled(
            model,
            teacher,
            ctx.tokenizer,
            ctx.train,
            max_length=MAX_LENGTH,
            time_budget_s=recover_s,
            progress=lambda f, m: ctx.report(0.3 + 0.7 * f, f"recovery: {m}"),
            device=ctx.device,
            epochs=1.0,
            batch_size=16,
            learning_rate=5e-5,
            seed=ctx.seed,
        )
        del teacher
        notes.update(
            {
                "recovery_seconds": report.seconds,
                "recovery_steps": report.steps,
                "recovery_stopped_by_budget": report.stopped_early,
                "recovery": "distilled from the unpruned model's outputs",
            }
        )
    else:
        notes["recovery"] = "off" if recover_s == 0 else "skipped: no train data"
    model.eval()
    return cache.keep_build(model, entry, ctx, f"prune-structured:{param}", notes)


def _magnitude_importance(adapter, layers) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per head, the norm of its rows in every projection that makes it (a fused QKV holds
    three blocks) and of its columns in the output; per neuron, the norm of its input rows (a
    fused GLU holds two) times that of its output column."""
    heads, neurons = [], []
    with torch.no_grad():
        for layer in layers:
            d, n = adapter.head_size(layer), adapter.heads(layer)
            out = adapter.head_output_layer(layer).weight
            squares = out.reshape(-1, n, d).pow(2).sum(dim=(0, 2))  # the heads' columns
            for linear, proj in adapter.projections(layer, adapter.head_inputs):
                squares = squares + linear.weight.reshape(proj.groups, n, d, -1).pow(2).sum(
                    dim=(0, 2, 3)
                )
            heads.append(squares.sqrt().cpu().numpy())
            width = adapter.ffn_width(layer)
            w_in = torch.zeros(width, device=out.device)
            for linear, proj in adapter.projections(layer, adapter.ffn_inputs):
                w_in = w_in + linear.weight.reshape(proj.groups, width, -1).pow(2).sum(dim=(0, 2))
            w_out = adapter.ffn_output_layer(layer).weight.norm(dim=0)
            neurons.append((w_in.sqrt() * w_out).cpu().numpy())
    return heads, neurons


def _gradient_importance(model, adapter, layers, ctx: BuildContext):
    """Per example, |d loss / d gate| of a gate of 1 multiplied into each head's output and each
    neuron's activation (= |sum of activation x gradient|), summed over calibration examples."""
    head_scores = [torch.zeros(adapter.heads(layer)) for layer in layers]
    neuron_scores = [torch.zeros(adapter.ffn_width(layer)) for layer in layers]
    gates: dict[tuple[int, str], torch.Tensor] = {}
    hooks = []

    def gate_hook(i: int, kind: str, groups: int):
        def hook(module, args):
            x = args[0]
            b, t, width = x.shape
            gate = torch.ones(b, groups, device=x.device, dtype=x.dtype, requires_grad=True)
            gates[(i, kind)] = gate
            x = (x.reshape(b, t, groups, width // groups) * gate[:, None, :, None]).reshape(
                b, t, width
            )
            return (x, *args[1:])

        return hook

    # The output projections' inputs are the heads side by side, and the neurons' activations.
    for i, layer in enumerate(layers):
        n_heads, width = adapter.heads(layer), adapter.ffn_width(layer)
        head_out, ffn_out = adapter.head_output_layer(layer), adapter.ffn_output_layer(layer)
        hooks.append(head_out.register_forward_pre_hook(gate_hook(i, "head", n_heads)))
        hooks.append(ffn_out.register_forward_pre_hook(gate_hook(i, "ffn", width)))

    was_training = model.training
    model.eval()  # no dropout: the scores measure the model as it predicts
    requires = [p.requires_grad for p in model.parameters()]
    for p in model.parameters():
        p.requires_grad_(False)  # only the gates need gradients: faster
    rng = np.random.default_rng(ctx.seed)
    n = min(CALIBRATION_EXAMPLES, len(ctx.train))
    idx = rng.permutation(len(ctx.train))[:n]
    try:
        for start in range(0, n, CALIBRATION_BATCH):
            chunk = idx[start : start + CALIBRATION_BATCH]
            ctx.report(
                0.05 + 0.25 * start / n, f"importance of heads and neurons ({start}/{n} examples)"
            )
            batch = tokenize(ctx.tokenizer, ctx.train, chunk, MAX_LENGTH, ctx.device)
            labels = torch.as_tensor(ctx.train.labels[chunk], device=ctx.device)
            loss = F.cross_entropy(model(**batch).logits, labels, reduction="sum")
            grads = torch.autograd.grad(loss, list(gates.values()))
            for (i, kind), g in zip(gates.keys(), grads, strict=True):
                target = head_scores if kind == "head" else neuron_scores
                target[i] += g.abs().sum(0).cpu()
            gates.clear()
    finally:
        for h in hooks:
            h.remove()
        for p, r in zip(model.parameters(), requires, strict=True):
            p.requires_grad_(r)
        model.train(was_training)
    return [s.numpy() for s in head_scores], [s.numpy() for s in neuron_scores]

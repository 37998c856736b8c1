"""What an architecture adapter knows, and the surgery every family shares.

A family's adapter is a ``FamilyAdapter`` subclass that names, as dotted paths, where its parts
live: the list of transformer layers (from ``model.base_model``), the Linear layers that make
attention heads (``head_inputs``, ``head_output``) and feed-forward neurons (``ffn_inputs``,
``ffn_output``), and the attributes that hold a layer's head count. From those paths alone this
class drops heads and neurons consistently, keeps a subset of layers, records the kept widths
and rebuilds a model from them; a family with a quirk overrides one hook (MPNet's shared
position bias, ModernBERT's per-layer attention types). Nothing here names one family's parts.

torch is imported inside the functions: listing families and checking a variant against a
model's config (``lib.techniques.applicability``) stay cheap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from lib.errors import UserError

if TYPE_CHECKING:
    import torch

# The config key under which a resized model records its widths, one entry per layer:
# ``{"heads": [...], "intermediate": [...]}`` (read back by ``lib.models.checkpoint``).
PRUNED_KEY = "leanbench_pruned"


@dataclass(frozen=True)
class Projection:
    """A Linear layer of a transformer layer, by its path from the layer.

    ``groups`` says how many blocks of units its rows hold: 1 for a plain query (one row block
    per head), 3 for a fused QKV (all query heads, then all keys, then all values), 2 for a fused
    GLU input (the value half, then the gate half). ``optional`` parts exist only in some
    configurations (DeBERTa's separate position projections) and are skipped when absent.
    """

    path: str
    groups: int = 1
    optional: bool = False


def get_path(root: Any, path: str) -> Any:
    """``root.a.b.c`` for ``"a.b.c"``; None when a part is missing."""
    obj = root
    for part in path.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def set_path(root: Any, path: str, value: Any) -> None:
    parent_path, _, name = path.rpartition(".")
    parent = get_path(root, parent_path) if parent_path else root
    setattr(parent, name, value)


def unit_rows(keep: list[int], size: int, groups: int, total: int) -> torch.Tensor:
    """Row indices of the kept units (heads of ``size`` rows, or neurons of 1) in every group."""
    import torch

    one = torch.cat([torch.arange(u * size, (u + 1) * size) for u in sorted(keep)])
    return torch.cat([one + g * total * size for g in range(groups)])


def _prune_linear(linear, index, dim: int):
    from typing import cast

    import torch
    from transformers.pytorch_utils import prune_linear_layer

    # prune_linear_layer's index is annotated as the legacy LongTensor type: a long tensor.
    index = cast(torch.LongTensor, index.to(device=linear.weight.device, dtype=torch.long))
    return prune_linear_layer(linear, index, dim=dim)


class FamilyAdapter:
    """One architecture family's anatomy; subclasses set the class attributes below."""

    name: ClassVar[str]  # what people call the family: "MPNet"
    model_types: ClassVar[tuple[str, ...]]  # config.model_type values it covers
    examples: ClassVar[str] = ""  # real checkpoints, for the list of supported families
    layers_path: ClassVar[str]  # the ModuleList of layers, from model.base_model
    attention: ClassVar[str]  # the module holding the head-count attributes, from a layer
    head_inputs: ClassVar[tuple[Projection, ...]]  # their rows are heads
    head_output: ClassVar[str]  # its input columns are the heads, concatenated
    ffn_inputs: ClassVar[tuple[Projection, ...]]  # their rows are neurons
    ffn_output: ClassVar[str]  # its input columns are the neurons
    head_size_attr: ClassVar[str] = "attention_head_size"  # on the attention module
    head_count_attrs: ClassVar[tuple[str, ...]] = ("num_attention_heads",)
    head_width_attrs: ClassVar[tuple[str, ...]] = ("all_head_size",)
    layer_count_attrs: ClassVar[tuple[str, ...]] = ()  # on the layers' parent module
    ffn_config_attr: ClassVar[str] = "intermediate_size"
    # Techniques (or "@runtime"s, e.g. an ONNX export that fails on this family) that cannot
    # work on it, each with the reason; ``{layers}`` is replaced by the model's layer count.
    not_applicable: ClassVar[dict[str, str]] = {}

    # ------------------------------------------------------------ finding the parts
    def layers(self, model) -> list:
        layers = get_path(getattr(model, "base_model", model), self.layers_path)
        if layers is None or not len(layers):
            raise UserError(
                f"{type(model).__name__} has no layers at '{self.layers_path}', where "
                f"{self.name} models keep them (a transformers version that moved them?)"
            )
        return list(layers)

    def checked_layers(self, model) -> list:
        """The layers, after checking every part is a float Linear that surgery can resize."""
        import torch

        layers = self.layers(model)
        paths = [p.path for p in (*self.head_inputs, *self.ffn_inputs) if not p.optional]
        for path in (*paths, self.head_output, self.ffn_output):
            if not isinstance(get_path(layers[0], path), torch.nn.Linear):
                raise UserError(
                    f"this {self.name} model has no float Linear '{path}' in its layers; "
                    "resizing layers needs the 32-bit model (put int8 or half after this step)"
                )
        return layers

    def projections(self, layer, which: tuple[Projection, ...]) -> list[tuple[Any, Projection]]:
        found = [(get_path(layer, p.path), p) for p in which]
        return [(m, p) for m, p in found if m is not None or not p.optional]

    def head_output_layer(self, layer):
        return get_path(layer, self.head_output)

    def ffn_output_layer(self, layer):
        return get_path(layer, self.ffn_output)

    def head_size(self, layer) -> int:
        return int(getattr(get_path(layer, self.attention), self.head_size_attr))

    def heads(self, layer) -> int:
        """Heads the layer has now: its output projection's inputs, one block per head."""
        return int(self.head_output_layer(layer).in_features // self.head_size(layer))

    def ffn_width(self, layer) -> int:
        return int(self.ffn_output_layer(layer).in_features)

    def linears(self, model) -> list[tuple[str, torch.nn.Linear]]:
        """Every Linear layer inside the transformer layers (what unstructured pruning prunes)."""
        import torch

        return [
            (f"{i}.{name}", m)
            for i, layer in enumerate(self.layers(model))
            for name, m in layer.named_modules()
            if isinstance(m, torch.nn.Linear)
        ]

    def n_layers(self, model) -> int:
        """Layers one forward pass runs through (the FLOP counter's figure)."""
        return len(self.layers(model))

    # ------------------------------------------------------------ resizing one layer
    def prune_heads(self, layer, keep: list[int]) -> None:
        """Keep only these attention heads of one layer, in place."""
        size, total = self.head_size(layer), self.heads(layer)
        if len(keep) >= total:
            return
        for linear, proj in self.projections(layer, self.head_inputs):
            rows = unit_rows(keep, size, proj.groups, total)
            set_path(layer, proj.path, _prune_linear(linear, rows, dim=0))
        cols = unit_rows(keep, size, 1, total)
        set_path(layer, self.head_output, _prune_linear(self.head_output_layer(layer), cols, 1))
        attention = get_path(layer, self.attention)
        # The forward passes of transformers 5 reshape with -1 heads, so the count follows the
        # weights; attributes that some families still read (or that people read) are kept true.
        for attr in self.head_count_attrs:
            if hasattr(attention, attr):
                setattr(attention, attr, len(keep))
        for attr in self.head_width_attrs:
            if hasattr(attention, attr):
                setattr(attention, attr, len(keep) * size)
        self.after_heads_pruned(layer, sorted(keep))

    def after_heads_pruned(self, layer, keep: list[int]) -> None:
        """A family whose layers share something per head (MPNet's position bias) adjusts it."""

    def prune_neurons(self, layer, keep: list[int]) -> None:
        """Keep only these feed-forward neurons of one layer, in place."""
        total = self.ffn_width(layer)
        if len(keep) >= total:
            return
        for linear, proj in self.projections(layer, self.ffn_inputs):
            rows = unit_rows(keep, 1, proj.groups, total)
            set_path(layer, proj.path, _prune_linear(linear, rows, dim=0))
        cols = unit_rows(keep, 1, 1, total)
        set_path(layer, self.ffn_output, _prune_linear(self.ffn_output_layer(layer), cols, 1))

    # ------------------------------------------------------------ widths, save and load
    def full_widths(self, config) -> tuple[int, int]:
        """(heads, feed-forward width) of an unpruned layer, from the config."""
        return int(config.num_attention_heads), int(getattr(config, self.ffn_config_attr))

    def widths(self, model) -> dict[str, list[int]]:
        """Heads and feed-forward width per layer, as they are now."""
        layers = self.checked_layers(model)
        return {
            "heads": [self.heads(layer) for layer in layers],
            "intermediate": [self.ffn_width(layer) for layer in layers],
        }

    def apply_widths(self, model, widths: dict[str, list[int]]) -> None:
        """Resize a freshly built model's layers to recorded widths (weights loaded after)."""
        layers = self.checked_layers(model)
        heads, inter = widths.get("heads", []), widths.get("intermediate", [])
        if len(heads) != len(layers) or len(inter) != len(layers):
            raise UserError(
                f"the saved pruning record has {len(heads)} layers, the model has {len(layers)}"
            )
        for layer, h, n in zip(layers, heads, inter, strict=True):
            self.prune_heads(layer, list(range(int(h))))
            self.prune_neurons(layer, list(range(int(n))))

    # ------------------------------------------------------------ keeping some layers
    def keep_layers(self, model, chosen: list[int]) -> None:
        """Keep only the layers at ``chosen`` (in order), in place, with the config to match."""
        import torch

        base = getattr(model, "base_model", model)
        layers = self.layers(model)
        set_path(base, self.layers_path, torch.nn.ModuleList([layers[i] for i in chosen]))
        for new_index, layer in enumerate(get_path(base, self.layers_path)):
            for module in layer.modules():
                if hasattr(module, "layer_idx"):
                    module.layer_idx = new_index
        parent_path = self.layers_path.rpartition(".")[0]
        parent = get_path(base, parent_path) if parent_path else base
        for attr in self.layer_count_attrs:
            if hasattr(parent, attr):
                setattr(parent, attr, len(chosen))
        config = model.config
        config.num_hidden_layers = len(chosen)
        record = getattr(config, PRUNED_KEY, None)
        if record:
            setattr(config, PRUNED_KEY, {k: [v[i] for i in chosen] for k, v in record.items()})
        self.after_layers_kept(model, chosen)

    def after_layers_kept(self, model, chosen: list[int]) -> None:
        """A family with per-layer settings in its config (ModernBERT) keeps the chosen ones."""

    # ------------------------------------------------------------ facts from a config
    def describe(self, config) -> dict[str, Any]:
        heads = getattr(config, "num_attention_heads", None)
        hidden = getattr(config, "hidden_size", None)
        head_size = getattr(config, "head_dim", None) or getattr(
            config, "attention_head_size", None
        )
        if not head_size and heads and hidden:
            head_size = hidden // heads
        return {
            "layers": getattr(config, "num_hidden_layers", None),
            "heads": heads,
            "head_size": head_size,
            "hidden": hidden,
            "ffn": getattr(config, self.ffn_config_attr, None),
        }

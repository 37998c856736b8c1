"""Architecture adapters: one module per model family, chosen from ``config.model_type``.

Each family's adapter (``base.FamilyAdapter``) knows where its layers, heads and feed-forward
neurons live; structured pruning, distillation, pruned checkpoints and FLOP counting go through
it and never name one family's attributes. ``registry`` maps model types to adapters;
``lib.techniques.applicability`` says from them, with a config alone, what applies to a model
and why not.

Dependencies run one way: ``registry`` -> the family modules -> ``base``. Nothing here imports
the rest of ``lib.models`` or ``lib.techniques``.
"""

from lib.models.families.base import PRUNED_KEY, FamilyAdapter, Projection
from lib.models.families.registry import (
    FAMILY_AGNOSTIC,
    families,
    for_config,
    for_model,
    register,
    require,
    unregister,
)

__all__ = [
    "FAMILY_AGNOSTIC",
    "PRUNED_KEY",
    "FamilyAdapter",
    "Projection",
    "families",
    "for_config",
    "for_model",
    "register",
    "require",
    "unregister",
]

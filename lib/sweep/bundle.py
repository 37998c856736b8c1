"""One baseline everywhere: what a (model, dataset) pair's runs share, packed once and installed
on each node before it measures.

A bundle is an uncompressed tar (weights barely compress) of

- ``baseline/``: the adapted baseline (or the user's own model folder when its head already
  fits the labels), which every node then measures as it is: no node trains its own head;
- ``cache/<entry>/``: the build cache entries of the trained variants (distilled students,
  pruned-and-recovered models, ``lib.models.cache``), keyed by the incoming weights, the step's
  settings and the train split, so the node's own variant process finds them and trains nothing;
- ``data/<file>``: the dataset file, when it is a local file rather than a built-in dataset.

The driver puts the bundle in Ray's object store once; each task gets it as an argument (Ray
copies it to the node) and ``install`` unpacks it under the node's data folder. Accuracy is then
the same model on every machine, and only speed differs.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tarfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from lib.paths import user_dir

COMPLETE = ".complete"
FACTS_FILE = "bundle.json"


@dataclass
class BundleFacts:
    """What the build reports about a bundle (JSON-ready)."""

    digest: str = ""
    size_bytes: int = 0
    baseline: bool = False  # True: baseline/ holds the model every node measures
    baseline_location: str = ""  # a Hub id every node loads itself, when not shipped
    entries: list[str] = field(default_factory=list)  # cache entry names shipped
    data_file: str = ""  # the dataset file's name under data/, when shipped
    adapted: bool = False
    adapt_seconds: float = 0.0
    adapt_steps: int = 0
    head: str = ""
    built_on: dict[str, Any] = field(default_factory=dict)  # node id, host, kind
    build_seconds: float = 0.0
    failures: dict[str, str] = field(default_factory=dict)  # variant -> why it was not built

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BundleFacts:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class Installed:
    """Where a bundle's parts are on this node."""

    root: Path
    baseline: Path | None
    data_file: Path | None
    replaced: list[str] = field(
        default_factory=list
    )  # cache entries that differed and were replaced


def pack(
    baseline_dir: Path | None,
    entries: list[Path],
    data_file: Path | None,
    facts: BundleFacts,
) -> bytes:
    """The bundle's bytes; ``facts`` gets its digest, size, entries and file names."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", dereference=True) as tar:
        if baseline_dir is not None:
            _add_tree(tar, baseline_dir, "baseline")
        for entry in sorted(entries, key=lambda p: p.name):
            _add_tree(tar, entry, f"cache/{entry.name}")
        if data_file is not None:
            tar.add(str(data_file), arcname=f"data/{data_file.name}", filter=_plain)
    blob = buf.getvalue()
    facts.digest = hashlib.sha256(blob).hexdigest()[:16]
    facts.size_bytes = len(blob)
    facts.baseline = baseline_dir is not None
    facts.entries = sorted(e.name for e in entries)
    facts.data_file = data_file.name if data_file is not None else ""
    return blob


def install(blob: bytes, facts: BundleFacts, models_dir: Path | None = None) -> Installed:
    """Unpack ``blob`` on this node (once per digest) and put its cache entries where the
    variant processes look (``models_dir``, default the data folder's ``models/``). An entry
    already there with other content (trained on this node before) is replaced: every node
    measures the one that was built once."""
    root = user_dir() / "sweep" / "bundles" / facts.digest
    if not (root / COMPLETE).exists():
        if hashlib.sha256(blob).hexdigest()[:16] != facts.digest:
            raise ValueError("the bundle's bytes do not match its digest")
        tmp = root.with_name(f"{root.name}.tmp-{time.time_ns()}")
        tmp.mkdir(parents=True)
        with tarfile.open(fileobj=io.BytesIO(blob), mode="r") as tar:
            tar.extractall(tmp, filter="data")
        (tmp / FACTS_FILE).write_text(json.dumps(facts.to_dict(), indent=2))
        (tmp / COMPLETE).write_text("")
        if root.exists():  # another task on this node finished first; keep theirs
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.rename(root)
    models = models_dir or user_dir() / "models"
    models.mkdir(parents=True, exist_ok=True)
    replaced = []
    for name in facts.entries:
        source, target = root / "cache" / name, models / name
        if target.exists():
            if tree_digest(target) == tree_digest(source):
                continue
            replaced.append(name)
            shutil.rmtree(target)
        tmp = target.with_name(f"{name}.tmp-{time.time_ns()}")
        shutil.copytree(source, tmp)
        tmp.rename(target)
    return Installed(
        root=root,
        baseline=root / "baseline" if facts.baseline else None,
        data_file=root / "data" / facts.data_file if facts.data_file else None,
        replaced=replaced,
    )


def tree_digest(path: Path) -> str:
    """The hash of a folder's files, by relative name and content."""
    h = hashlib.sha256()
    for f in sorted(p for p in path.rglob("*") if p.is_file()):
        h.update(str(f.relative_to(path)).encode() + b"\0")
        with open(f, "rb") as fh:
            while chunk := fh.read(1 << 20):
                h.update(chunk)
    return h.hexdigest()


def save(blob: bytes, facts: BundleFacts, path: Path) -> None:
    """Keep a bundle on the driver's disk (``path``.tar and its facts beside it), so a
    re-submitted sweep ships the same weights instead of training again."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.tmp-{time.time_ns()}")
    tmp.write_bytes(blob)
    facts_file(path).write_text(json.dumps(facts.to_dict(), indent=2))
    tmp.rename(path)


def load(path: Path) -> tuple[bytes, BundleFacts] | None:
    """A bundle kept by ``save``, or None when there is none (or it is damaged)."""
    meta = facts_file(path)
    if not path.exists() or not meta.exists():
        return None
    try:
        facts = BundleFacts.from_dict(json.loads(meta.read_text()))
    except (ValueError, TypeError):
        return None
    blob = path.read_bytes()
    if hashlib.sha256(blob).hexdigest()[:16] != facts.digest:
        return None
    return blob, facts


def facts_file(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def _add_tree(tar: tarfile.TarFile, folder: Path, arcname: str) -> None:
    for f in sorted(p for p in folder.rglob("*") if p.is_file()):
        tar.add(str(f), arcname=f"{arcname}/{f.relative_to(folder)}", filter=_plain)


def _plain(info: tarfile.TarInfo) -> tarfile.TarInfo:
    """Same bytes for the same files: no owner, time or mode of this machine in the tar."""
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mtime = 0
    info.mode = 0o644
    return info

"""Result documents saved per (model, dataset) under the user folder, beside the runs: the
learning curve and the long-document comparison. One place writes them atomically, reads them
back (a damaged or foreign file reads as None) and finds the one belonging to a run."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from lib.paths import user_dir


@dataclass(frozen=True)
class SavedDocs:
    kind: str  # the document's "kind", and the key a run document may carry it under
    folder: str  # under the user folder
    prefix: str  # of each file name

    def path(self, model: str, dataset: str) -> Path:
        slug = hashlib.sha256(json.dumps([model, dataset]).encode()).hexdigest()[:16]
        return user_dir() / self.folder / f"{self.prefix}-{slug}.json"

    def save(self, doc: dict) -> Path:
        path = self.path(str(doc.get("model")), str(doc.get("dataset")))
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(doc, indent=1, default=str))
        tmp.replace(path)  # never a half-written file
        return path

    def load(self, model: str, dataset: str) -> dict | None:
        """The latest document saved for this model and dataset, or None."""
        path = self.path(model, dataset)
        try:
            doc = json.loads(path.read_text()) if path.exists() else None
        except (OSError, ValueError):
            return None
        return doc if isinstance(doc, dict) and doc.get("kind") == self.kind else None

    def for_run(self, run_doc: dict) -> dict | None:
        """A run document's own copy (under ``kind``), else the one saved for its model and
        dataset."""
        own = run_doc.get(self.kind)
        if isinstance(own, dict):
            return own
        spec = run_doc.get("spec") or {}
        model = (spec.get("model") or {}).get("source")
        dataset = (spec.get("dataset") or {}).get("source")
        if not model or not dataset:
            return None
        return self.load(str(model), str(dataset))

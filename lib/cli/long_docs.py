"""``python -m lib long-docs``: truncate, head+tail or chunk documents longer than the model reads.

    python -m lib long-docs --model minilm-l6 --dataset bbc-news \
        --strategies truncate:128,head-tail:128,chunk:128:32:mean --out long.json

Adapts the baseline on the dataset's train split as a run does (cached), then measures each
strategy on the eval split: accuracy with its 95% interval, ms per document, documents/s (also by
document length), windows per document and $ per 1M documents on the machine that measured it;
and the token-length distribution. Keys: docs/long-documents.md.
"""

from __future__ import annotations

import argparse
import sys

from lib.cli.args import add_model_and_data_arguments, fraction_progress, str_list, write_document
from lib.cli.base import Command


class LongDocsCommand(Command):
    name = "long-docs"
    help = "long documents: accuracy and speed of truncate, head+tail and chunked reading"
    description = (
        "Measure strategies for texts longer than the model's maximum length: truncate[:L], "
        "head-tail[:L[:H]], chunk[:L[:OVERLAP[:mean|max]]] (L: tokens per window)."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        p = parser
        add_model_and_data_arguments(p, dataset="bbc-news")
        p.add_argument(
            "--strategies",
            type=str_list,
            default=["truncate", "head-tail", "chunk"],
            help="comma-separated, e.g. truncate:128,head-tail:128,chunk:128:32:mean "
            "(default: each at the model's maximum length)",
        )
        p.add_argument("--train-limit", type=int, default=4000)
        p.add_argument("--eval-limit", type=int, default=1000)
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--epochs", type=float, default=1.0, help="adaptation epochs")
        p.add_argument(
            "--adapt-max-length", type=int, default=64, help="tokens per training example"
        )
        p.add_argument("--threads", type=int)
        p.add_argument("--device", default="cpu", help="cpu, cuda, mps or auto")
        p.add_argument(
            "--price-on",
            metavar="INSTANCE",
            help="price documents/s at this cloud instance's rate (default: the machine that "
            "measured them)",
        )
        p.add_argument("--out", help="write the JSON here (default: print it)")
        p.add_argument("--quiet", action="store_true", help="no progress on stderr")

    def run(self, args: argparse.Namespace) -> int:
        from lib.execution.runner import resolve_device
        from lib.results.long_docs import lengths_sentence, long_documents
        from lib.spec import AdaptSpec, DatasetSpec, ModelSpec

        dataset = DatasetSpec(
            args.dataset,
            text_column=args.text_column,
            label_column=args.label_column,
            train_limit=args.train_limit,
            eval_limit=args.eval_limit,
            seed=args.seed,
        )

        doc = long_documents(
            ModelSpec(args.model),
            dataset,
            args.strategies,
            AdaptSpec(epochs=args.epochs, max_length=args.adapt_max_length),
            device=resolve_device(args.device),
            threads=args.threads,
            progress=fraction_progress(args.quiet),
            rate_option=args.price_on,
        )
        write_document(doc, args.out, "long-document results")
        print(lengths_sentence(doc), file=sys.stderr)
        for line in doc["sentences"] + [f"note: {n}" for n in doc.get("notes") or []]:
            print(line, file=sys.stderr)
        return 0

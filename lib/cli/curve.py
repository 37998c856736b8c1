"""``python -m lib curve``: how many labels are enough, the learning curve of a model on a dataset.

    python -m lib curve --model minilm-l6 --dataset rotten-tomatoes \
        --sizes 50,100,250,500,1000,2000,4000 --seeds 3 --target 0.8 --out curve.json

Trains a new head on nested, stratified subsets of the train split (every seed at sizes up to
``--multi-seed-up-to``), measures each on the same eval split, and writes the curve document
(``points``, ``labels_needed`` and the rest: docs/long-documents.md, "The learning curve").
Each point is cached: a second call with the same settings trains nothing.
"""

from __future__ import annotations

import argparse
import sys

from lib.cli.args import add_model_and_data_arguments, fraction_progress, int_list, write_document
from lib.cli.base import Command


class CurveCommand(Command):
    name = "curve"
    help = "the learning curve: accuracy vs number of labelled examples"
    description = (
        "Fine-tune a new head on nested subsets of the train split and report the accuracy of "
        "each, the smallest number of labels that reaches --target, and what each point cost."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        p = parser
        add_model_and_data_arguments(p)
        p.add_argument(
            "--sizes",
            type=int_list,
            help="labelled examples per point (default 50,100,250,500,1000,2000,4000)",
        )
        p.add_argument("--seeds", type=int, help="draws of examples at the small sizes (3)")
        p.add_argument(
            "--multi-seed-up-to",
            type=int,
            help="sizes up to this get every seed, larger ones one (default 500)",
        )
        p.add_argument("--target", type=float, default=0.8, help="accuracy that is good enough")
        p.add_argument("--eval-limit", type=int, default=1000)
        p.add_argument("--seed", type=int, default=0, help="the train/eval split's seed")
        p.add_argument("--epochs", type=float, default=1.0, help="epochs at least, per point")
        p.add_argument("--min-steps", type=int, help="training steps at least, per point (20)")
        p.add_argument("--max-length", type=int, default=64, help="tokens per training example")
        p.add_argument(
            "--head-init",
            choices=("probe", "random"),
            default="probe",
            help="start the new head from a logistic regression on the frozen model's features "
            "(probe, default) or at random, as adaptation does",
        )
        p.add_argument("--threads", type=int)
        p.add_argument("--device", default="cpu", help="cpu, cuda, mps or auto")
        p.add_argument(
            "--one-off-on",
            metavar="INSTANCE",
            help="price each point's seconds at this cloud instance's rate (default: the "
            "machine that trained it)",
        )
        p.add_argument("--out", help="write the curve JSON here (default: print it)")
        p.add_argument("--quiet", action="store_true", help="no progress on stderr")

    def run(self, args: argparse.Namespace) -> int:
        from lib.execution.runner import resolve_device
        from lib.results.curve import learning_curve
        from lib.spec import AdaptSpec, DatasetSpec, ModelSpec
        from lib.training.curve import MIN_STEPS, CurveSettings

        settings = CurveSettings(
            adapt=AdaptSpec(epochs=args.epochs, max_length=args.max_length),
            min_steps=MIN_STEPS if args.min_steps is None else args.min_steps,
            head_init=args.head_init,
        )
        dataset = DatasetSpec(
            args.dataset,
            text_column=args.text_column,
            label_column=args.label_column,
            eval_limit=args.eval_limit,
            seed=args.seed,
        )

        doc = learning_curve(
            ModelSpec(args.model),
            dataset,
            args.sizes,
            args.seeds,
            args.target,
            settings,
            multi_seed_up_to=args.multi_seed_up_to,
            device=resolve_device(args.device),
            threads=args.threads,
            progress=fraction_progress(args.quiet),
            rate_option=args.one_off_on,
        )
        write_document(doc, args.out, "curve")
        print(doc["sentence"], file=sys.stderr)
        for note in doc.get("notes") or []:
            print(f"note: {note}", file=sys.stderr)
        return 0

"""``mlcl-text predict``: label texts with a trained model (the rows of a JSONL/CSV/TSV/Parquet
file, or one text per line of a file or of stdin); write the predictions as JSON lines or a
file (reading and writing: :mod:`mlcl_text.cli.prediction_io`)."""

from __future__ import annotations

import argparse

from mlcl_text.cli.options import (
    Subparsers,
    add_batch_options,
    add_threshold_option,
    integer,
)
from mlcl_text.data.registry import DataError

ORDER = 40


def add_parser(commands: Subparsers) -> argparse.ArgumentParser:
    predict = commands.add_parser(
        "predict",
        help="label texts: the rows of a JSONL/CSV/TSV/Parquet FILE, or one text per line of "
        "another FILE or of stdin (-, the default)",
    )
    predict.add_argument(
        "model",
        help="training output folder, one of its checkpoint-* folders, a full or onnx export, "
        "or a Hub repository id",
    )
    predict.add_argument("input", nargs="?", default="-", metavar="FILE|-")
    predict.add_argument(
        "--text-column",
        dest="text_columns",
        action="append",
        default=None,
        metavar="NAME",
        help="column holding the text (repeatable: joined by a blank line; default: text)",
    )
    predict.add_argument("--id-column", default="id", help="column kept as id (default: id)")
    predict.add_argument(
        "--output", help="a .jsonl or .csv file for the predictions (default: JSON lines on stdout)"
    )
    predict.add_argument(
        "--top-k",
        type=integer(1),
        help="only the K most probable labels' probabilities, highest first",
    )
    add_threshold_option(predict)
    predict.add_argument(
        "--inconsistent",
        action="store_true",
        help="keep labels whose parent is not predicted (default: hierarchy-consistent)",
    )
    add_batch_options(predict)
    predict.add_argument(
        "--max-length",
        type=integer(8),
        default=None,
        help="tokens per text (default: the length the model was trained with)",
    )
    return predict


def run(args: argparse.Namespace) -> int:
    from mlcl_text.classifier import Classifier
    from mlcl_text.cli.prediction_io import (
        check_output,
        prediction_records,
        read_texts,
        write_records,
    )

    if args.output:
        check_output(args.output)  # before any work
    classifier = Classifier.from_pretrained(
        args.model,
        device=args.device,
        batch_size=args.batch_size,
        max_length=args.max_length,
        threshold=args.threshold,
        consistent=not args.inconsistent,
        progress=True,
    )
    texts = read_texts(args.input, args.text_columns or ["text"], args.id_column)
    if not texts.texts:
        raise DataError(f"{args.input}: no text to label")
    probabilities = classifier.predict_proba(texts.texts)
    predictions = classifier.decode(probabilities)
    names = classifier.labels
    records = prediction_records(texts, predictions, probabilities, names, args.top_k)
    write_records(records, args.output, names, args.top_k)
    if args.output:
        print(f"wrote {len(records)} predictions to {args.output}")
    return 0

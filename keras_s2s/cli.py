"""The `keras-s2s` command: train, translate, evaluate, export.

Options left unset fall through to the library's own defaults (argparse
SUPPRESS), so every hyperparameter keeps a single home: the Python signature.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from keras_s2s.decoding.settings import METHODS, field_help
from keras_s2s.models.architectures import ARCHITECTURES, ATTENTION_TYPES, TOKENIZATIONS

_UNSET = argparse.SUPPRESS
# Option values, kept here so `--help` does not import TensorFlow (= distribution.*).
STRATEGIES = ("default", "mirrored", "multi-worker", "tpu")
MIXED_PRECISION_POLICIES = ("mixed_float16", "mixed_bfloat16")


def _add_decoding_options(parser: argparse.ArgumentParser, *, methods=METHODS, skip=()):
    """One flag per `DecodingSettings` field, with its help and default."""
    group = parser.add_argument_group("decoding (see keras_s2s.decoding.DecodingSettings)")
    for name, (default, text, applies_to, kind) in field_help().items():
        if name in skip:
            continue
        flag = "--" + name.replace("_", "-")
        if kind is bool:
            kind = _boolean
        where = "" if len(applies_to) == len(METHODS) else f"; {'/'.join(applies_to)} only"
        options = dict(type=kind, default=_UNSET, help=f"{text} (default {default}{where})")
        if name == "method":
            options.update(choices=list(methods), type=str)
        group.add_argument(flag, **options)


def _add_data_options(parser: argparse.ArgumentParser):
    group = parser.add_argument_group("data")
    group.add_argument("--corpus", help="a bundled corpus by name (default: bible-spa-eng)")
    group.add_argument("--data", metavar="FILE.tsv",
                       help="a tab-separated pairs file (.tsv or .tsv.gz) instead of a corpus")
    group.add_argument("--source-column", type=int, default=0,
                       help="0-based column of the source sentence in --data (default 0)")
    group.add_argument("--target-column", type=int, default=1,
                       help="0-based column of the target sentence in --data (default 1)")
    group.add_argument("--max-words", type=int, default=_UNSET,
                       help="keep pairs with at most this many words per side")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="keras-s2s",
        description="Train, run and score encoder-decoder translation models.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = commands.add_parser(
        "train", help="train a model on a corpus or a TSV file",
        description="Train a model; prints validation loss per epoch, BLEU/chrF on the "
        "held-out split and sample translations, then saves the model.",
    )
    _add_data_options(train)
    model = train.add_argument_group("model")
    model.add_argument("--architecture", choices=list(ARCHITECTURES), default=_UNSET,
                       help="gru / lstm: the classic encoder-decoder; -attention: with a "
                       "bidirectional encoder and Luong attention; transformer: "
                       "self-attention encoder-decoder (default gru)")
    model.add_argument("--tokenization", choices=list(TOKENIZATIONS), default=_UNSET,
                       help="word-level vocabularies (default) or WordPiece subwords "
                       "(rare words spelled in pieces instead of [UNK])")
    model.add_argument("--attention", choices=list(ATTENTION_TYPES), default=_UNSET,
                       help="attention score for the -attention architectures: luong "
                       "(multiplicative, default) or bahdanau (additive)")
    for flag, kind, text in (
        ("--embedding-dim", int, "token embedding size"),
        ("--hidden-dim", int, "RNN state size (transformer: model width)"),
        ("--num-layers", int, "stacked RNN layers (transformer: blocks) per side"),
        ("--num-heads", int, "attention heads (transformer only)"),
        ("--intermediate-dim", int, "feed-forward width (transformer only)"),
        ("--dropout", float, "dropout rate"),
        ("--source-vocabulary-size", int, "source vocabulary cap"),
        ("--target-vocabulary-size", int, "target vocabulary cap"),
    ):
        model.add_argument(flag, type=kind, default=_UNSET, help=text)
    fit = train.add_argument_group("training")
    for flag, kind, text in (
        ("--epochs", int, "maximum epochs"),
        ("--batch-size", int, "sentences per step, over all replicas (the global batch)"),
        ("--learning-rate", float, "Adam learning rate"),
        ("--time-budget-seconds", float,
         "wall-clock budget; no epoch starts that would end past it"),
        ("--seed", int, "random seed"),
    ):
        fit.add_argument(flag, type=kind, default=_UNSET, help=text)
    fit.add_argument("--batching", choices=["buckets", "sorted"], default=_UNSET,
                     help="how pairs of similar length are batched: buckets (tf.data length "
                     "buckets, default) or sorted (sorted by length every epoch, ~99%% real "
                     "tokens; faster for large RNNs)")
    fit.add_argument("--batch-tokens", type=int, default=_UNSET,
                     help="with --batching sorted: each batch as many pairs as fit in this "
                     "many target tokens, instead of --batch-size pairs")
    fit.add_argument("--output", default="model.keras", help="where to save (default model.keras)")
    fit.add_argument("--backup-dir", default=_UNSET,
                     help="resume directory: rerun the same command after a crash to continue")
    fit.add_argument("--strategy", choices=list(STRATEGIES), default="default",
                     help="tf.distribute strategy: default (one device), mirrored (all local "
                     "GPUs), multi-worker (machines in TF_CONFIG), tpu (default: default)")
    fit.add_argument("--mixed-precision", choices=list(MIXED_PRECISION_POLICIES), default=None,
                     help="compute in 16-bit floats, keep float32 weights, logits and loss: "
                     "mixed_float16 on GPUs, mixed_bfloat16 on TPUs (default: float32)")

    translate = commands.add_parser(
        "translate", help="translate sentences (arguments, or lines on stdin)"
    )
    translate.add_argument("--model", required=True,
                           help="a .keras model file or an exported SavedModel directory")
    translate.add_argument("texts", nargs="*", metavar="TEXT",
                           help="sentences to translate; none: read lines from stdin")
    _add_decoding_options(translate)

    export = commands.add_parser(
        "export", help="write a TF Serving SavedModel (next integer version)",
        description="Export a .keras model as saved_models/NAME/<version>/ for TF Serving.",
    )
    export.add_argument("--model", required=True, help="a .keras model file")
    export.add_argument("--output", required=True,
                        help="model base path, e.g. saved_models/spa_eng")
    _add_decoding_options(export, methods=("beam", "greedy"),
                          skip=("temperature", "top_k", "seed"))

    check = commands.add_parser(
        "check-export", help="check a SavedModel export before deploying it",
        description="Loads an export through TF Serving's C++ loader and TensorFlow's "
        "Python loader, compares them, lists signatures, ops and GPU kernels, replays "
        "the warm-up requests and times a batch. Exit code 1 if a check fails.",
    )
    check.add_argument("path", help="a model base path (its highest version) or a version "
                       "directory")

    evaluate = commands.add_parser("evaluate", help="BLEU and chrF (sacrebleu) on a data set")
    evaluate.add_argument("--model", required=True,
                          help="a .keras model file or an exported SavedModel directory")
    _add_data_options(evaluate)
    evaluate.add_argument("--split", choices=["train", "validation", "test"], default="test",
                          help="split of --corpus to score (default test)")
    _add_decoding_options(evaluate)
    return parser


_DECODING = list(field_help())


def _boolean(text: str) -> bool:
    if text.lower() in ("yes", "true", "1", "on"):
        return True
    if text.lower() in ("no", "false", "0", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected yes or no, got {text!r}")


def _options(args, names):
    return {name: getattr(args, name) for name in names if hasattr(args, name)}


def _load_pairs(args):
    """Returns (train, validation, test) SentencePairs; test may be None."""
    from keras_s2s import data

    max_words = getattr(args, "max_words", None)
    if args.data:
        pairs = data.load_tsv(args.data, source_column=args.source_column,
                              target_column=args.target_column, max_words=max_words)
        return (*data.split_pairs(pairs), None)
    splits = data.load_corpus(args.corpus or "bible-spa-eng", max_words=max_words)
    print(splits.describe())
    return splits.train, splits.validation, splits.test


def _train(args):
    import keras

    import keras_s2s
    from keras_s2s.checkpointing import check_keras_path, save_model_atomically
    from keras_s2s.distribution import is_chief, training_scope, worker_task
    from keras_s2s.evaluation import evaluate

    check_keras_path(args.output, "--output")  # before hours of training, not after
    train_pairs, validation_pairs, test_pairs = _load_pairs(args)
    model_options = _options(args, [
        "architecture", "tokenization", "attention", "embedding_dim", "hidden_dim",
        "num_layers", "dropout",
        "source_vocabulary_size", "target_vocabulary_size", "num_heads", "intermediate_dim",
    ])
    # The model, its optimizer and metrics are all made under the strategy and policy.
    with training_scope(args.strategy, mixed_precision=args.mixed_precision) as strategy:
        # Seed before the weights are created, so a run is reproducible end to end.
        keras.utils.set_random_seed(getattr(args, "seed", 0))
        model = keras_s2s.build_model(train_pairs, **model_options)
        print(f"Model: {model.count_params():,} parameters, vocabularies "
              f"{len(model.source_vocabulary)} source / {len(model.target_vocabulary)} "
              "target tokens.")
        started = time.monotonic()
        keras_s2s.train(model, train_pairs, validation_pairs, **_options(args, [
            "epochs", "batch_size", "batching", "batch_tokens", "learning_rate",
            "time_budget_seconds", "seed", "backup_dir",
        ]))
    print(f"Trained in {time.monotonic() - started:.0f} s.")
    if not is_chief(strategy):
        task_type, task_id = worker_task(strategy)
        print(f"{task_type} {task_id}: done; the chief saves and scores the model.")
        return
    save_model_atomically(model, args.output)  # a crash mid-save leaves no half file
    print(f"Saved {args.output} ({os.path.getsize(args.output) / 1e6:.1f} MB).")
    held_out = test_pairs if test_pairs is not None else validation_pairs
    name = "test" if test_pairs is not None else "validation"
    scores, hypotheses = evaluate(model, held_out)
    print(f"Greedy translation of the {name} split: {scores}")
    for source, reference, hypothesis in list(zip(
        held_out.sources, held_out.targets, hypotheses
    ))[:8]:
        print(f"\n  source:     {source}\n  reference:  {reference}\n  model:      {hypothesis}")


def _translate(args):
    import keras_s2s

    texts = args.texts or [line.rstrip("\n") for line in sys.stdin]
    results = keras_s2s.translate(texts, args.model, **_options(args, _DECODING))
    for result in results:
        if isinstance(result, list):
            print("\t".join(f"{score:.3f}\t{text}" for text, score in result))
        else:
            print(result)


def _evaluate(args):
    from keras_s2s import data
    from keras_s2s.evaluation import evaluate

    max_words = getattr(args, "max_words", None)
    if args.data:
        pairs = data.load_tsv(args.data, source_column=args.source_column,
                              target_column=args.target_column, max_words=max_words)
    else:
        splits = data.load_corpus(args.corpus or "bible-spa-eng", max_words=max_words)
        pairs = getattr(splits, args.split)
    scores, _ = evaluate(args.model, pairs, **_options(args, _DECODING))
    print(scores)


def _export(args):
    from keras_s2s.saved_model.writer import export

    print(f"Wrote {export(args.model, args.output, **_options(args, _DECODING))}")


def _check_export(args):
    from keras_s2s.saved_model.check import check_export

    report = check_export(args.path)
    print(report)
    if not report.ok:
        print(f"keras-s2s check-export: {report.summary()}", file=sys.stderr)
        return 1
    print(report.summary())
    return 0


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    command = {"train": _train, "translate": _translate, "evaluate": _evaluate,
               "export": _export, "check-export": _check_export}[args.command]
    from keras_s2s.data import DataFormatError

    try:
        return command(args) or 0
    except (DataFormatError, ValueError, TypeError, FileNotFoundError) as error:
        print(f"keras-s2s {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

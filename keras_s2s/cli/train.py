"""`keras-s2s train`: data checks first, then `keras_s2s.build_model` and
`keras_s2s.train`, then the saved model's scores on the held-out split.

Everything that can fail without training fails before TensorFlow loads: the
output name, the data file, too few pairs, a split left empty by the
filters. Options left unset are not passed on (the library's defaults hold).
"""

from __future__ import annotations

import os
import sys
import time

from keras_s2s.cli import checks, datasets
from keras_s2s.cli.messages import CommandLineError, warn
from keras_s2s.cli.quiet import import_tensorflow

MODEL_OPTIONS = ("architecture", "tokenization", "attention", "embedding_dim", "hidden_dim",
                 "num_layers", "dropout", "source_vocabulary_size", "target_vocabulary_size",
                 "num_heads", "intermediate_dim", "tie_embeddings")


def _given(args, names) -> dict:
    return {name: getattr(args, name) for name in names if hasattr(args, name)}


def training_settings(args):
    """The `TrainingSettings` the options ask for (a ValueError names a bad one)."""
    from keras_s2s.training_settings import TrainingSettings, field_help

    return TrainingSettings.from_options(**_given(args, field_help()))


def _check(args) -> datasets.Splits:
    checks.check_output_file(args.output, "--output", ending=".keras")
    checks.check_data_options(args)
    if hasattr(args, "batch_tokens") and getattr(args, "batching", "buckets") != "sorted":
        raise CommandLineError("--batch-tokens applies to --batching sorted only.")
    training_settings(args)  # every training option checked before TensorFlow loads
    splits = datasets.training_splits(args)
    for message in splits.warnings:
        warn("train", message)
    print(datasets.describe_splits(splits), flush=True)
    return splits


def run(args) -> int:
    splits = _check(args)
    import_tensorflow(verbose=args.verbose)
    import keras

    import keras_s2s
    from keras_s2s.checkpointing import save_model_atomically
    from keras_s2s.distribution import is_chief, training_scope, worker_task

    train_pairs, validation_pairs = splits.parts["train"], splits.parts["validation"]
    # The model, its optimizer and metrics are all made under the strategy and policy.
    with training_scope(args.strategy, mixed_precision=args.mixed_precision) as strategy:
        # Seed before the weights are created, so a run is reproducible end to end.
        settings = training_settings(args)
        keras.utils.set_random_seed(settings.seed)
        model = keras_s2s.build_model(train_pairs, **_given(args, MODEL_OPTIONS))
        print(f"Model: {model.count_params():,} parameters, vocabularies "
              f"{len(model.source_vocabulary)} source / {len(model.target_vocabulary)} "
              "target tokens.", flush=True)
        started = time.monotonic()
        # A progress bar for a terminal; one line per epoch for a log file or a pipe.
        verbose = 1 if sys.stdout.isatty() else 2
        keras_s2s.train(model, train_pairs, validation_pairs, verbose=verbose,
                        settings=settings, **_given(args, ["backup_dir"]))
    print(f"Trained in {time.monotonic() - started:.0f} s.")
    if not is_chief(strategy):
        task_type, task_id = worker_task(strategy)
        print(f"{task_type} {task_id}: done; the chief saves and scores the model.")
        return 0
    save_model_atomically(model, args.output)  # a crash mid-save leaves no half file
    print(f"Saved {args.output} ({os.path.getsize(args.output) / 1e6:.1f} MB).")
    _report_held_out(model, splits)
    return 0


def _report_held_out(model, splits):
    from keras_s2s.evaluation import evaluate

    name = "test" if "test" in splits.parts else "validation"
    held_out = splits.parts[name]
    scores, hypotheses = evaluate(model, held_out)
    print(f"Greedy translation of the {name} split ({len(held_out):,} pairs): {scores}")
    for source, reference, hypothesis in list(zip(
        held_out.sources, held_out.targets, hypotheses
    ))[:8]:
        print(f"\n  source:     {source}\n  reference:  {reference}\n  model:      {hypothesis}")

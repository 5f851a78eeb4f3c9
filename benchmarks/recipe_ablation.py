"""What each part of the training recipe buys: an ablation on the bundled corpus.

Usage:
    .venv/bin/python benchmarks/recipe_ablation.py [--steps 3000] [--rows base,smoothing,...]

Every row trains the same model from the same seed for the same number of
optimizer steps (not minutes: this machine is shared, and a fixed step count
gives the same model whatever else runs; each row's wall time is printed),
adding one recipe feature to the row before it, then scores the test split
with sacrebleu: pairs of at most 20 words, and all test pairs; greedy and beam 4.

Rows (cumulative): the previous best (gru-attention, WordPiece 5k, dropout 0.2,
constant learning rate, best validation loss), + label smoothing 0.1, + warm-up
and cosine decay, + tied embeddings, + averaging the last 5 epochs (the
default recipe); beside it, the best epoch by validation BLEU instead of
averaging (not carried on); + training on all pairs instead of those of at most
20 words; and the Transformer with the whole recipe (inverse square root
schedule), for comparison.
"""

from __future__ import annotations

import argparse
import math
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402

import keras_s2s  # noqa: E402
from keras_s2s.data import load_corpus  # noqa: E402
from keras_s2s.evaluation import score_translations  # noqa: E402

# The previous best, with every part of the recipe off (they are the defaults now,
# so the base row turns them off explicitly).
BASE_MODEL = dict(architecture="gru-attention", tokenization="wordpiece", dropout=0.2,
                  tie_embeddings=False)
BASE_TRAINING = dict(label_smoothing=0.0, learning_rate_schedule="constant", warmup_steps=0,
                     average_last=0)
# name -> (what it adds, model options, training options, all pairs?)
ROWS = {
    "base": ("gru-attention, WordPiece, dropout 0.2 (the previous best)", {}, {}, False),
    "smoothing": ("+ label smoothing 0.1", {}, dict(label_smoothing=0.1), False),
    "schedule": ("+ warm-up 150 steps (a twentieth), then cosine", {},
                 dict(learning_rate_schedule="cosine", warmup_steps=150), False),
    "tying": ("+ tied target embeddings", dict(tie_embeddings=True), {}, False),
    "averaging": ("+ average of the last 5 epochs", {}, dict(average_last=5), False),
    # An alternative to averaging, not carried into the rows after it.
    "bleu": ("  instead of averaging: the best epoch by validation BLEU", {},
             dict(average_last=0, monitor="val_bleu"), False),
    "all-pairs": ("+ all pairs, not only those of <= 20 words", {}, {}, True),
}
TRANSFORMER = ("transformer, whole recipe (inverse square root schedule)",
               dict(architecture="transformer", tokenization="wordpiece",
                    tie_embeddings=True),
               dict(label_smoothing=0.1, learning_rate=1e-3,
                    learning_rate_schedule="inverse_sqrt", warmup_steps=1000,
                    monitor="val_bleu"), True)


def cumulative_rows(names):
    """(name, description, model options, training options, all pairs) with
    each row's options added to the ones before it."""
    model, training, all_pairs, rows = dict(BASE_MODEL), dict(BASE_TRAINING), False, []
    for name in ROWS:
        description, model_extra, training_extra, pairs_extra = ROWS[name]
        row_model, row_training = {**model, **model_extra}, {**training, **training_extra}
        if name != "bleu":  # the alternative row is not carried on
            model, training = row_model, row_training
        all_pairs = all_pairs or pairs_extra
        if name in names:
            rows.append((name, description, row_model, row_training, all_pairs))
    if "transformer" in names:
        description, model_extra, training_extra, pairs_extra = TRANSFORMER
        rows.append(("transformer", description, model_extra, training_extra, pairs_extra))
    return rows


def run_row(row, steps, short, everything, batch_size=64):
    name, description, model_options, training_options, all_pairs = row
    splits = everything if all_pairs else short
    keras.utils.set_random_seed(0)
    model = keras_s2s.build_model(splits.train, **model_options)
    steps_per_epoch = math.ceil(len(splits.train) / batch_size)
    epochs = max(1, round(steps / steps_per_epoch))
    started = time.monotonic()
    history = keras_s2s.train(model, splits.train, splits.validation, epochs=epochs,
                              batch_size=batch_size, early_stopping_patience=4, verbose=2,
                              **training_options)
    seconds = time.monotonic() - started
    scores = {}
    for test_name, test in (("short", short.test), ("all", everything.test)):
        for method in ("greedy", "beam"):
            hypotheses = keras_s2s.translate(list(test.sources), model, method=method)
            scores[test_name, method] = score_translations(hypotheses, test.targets)
    return dict(name=description, params=model.count_params(), epochs=len(history.epoch),
                seconds=seconds, scores=scores, model=model)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000, help="optimizer steps per row")
    parser.add_argument("--rows", default=",".join([*ROWS, "transformer"]))
    parser.add_argument("--save", default="", help="directory to save each row's model in")
    args = parser.parse_args()
    short = load_corpus("bible-spa-eng", max_words=20)
    everything = load_corpus("bible-spa-eng")
    results = []
    for row in cumulative_rows(args.rows.split(",")):
        print(f"\n=== {row[1]}: model {row[2]}, training {row[3]}", flush=True)
        result = run_row(row, args.steps, short, everything)
        if args.save:
            os.makedirs(args.save, exist_ok=True)
            result["model"].save(os.path.join(args.save, f"{row[0]}.keras"))
        results.append(result)
        print_table(results, args.steps)


def print_table(results, steps):
    print(f"\nAblation, {steps} optimizer steps per row (same seed); test split BLEU / chrF")
    header = (f"{'recipe':58s} {'params':>7s} {'ep':>3s} {'min':>5s} "
              f"{'<=20 greedy':>12s} {'<=20 beam 4':>12s} {'all greedy':>12s} {'all beam 4':>12s}")
    print(header)
    print("-" * len(header))
    for r in results:
        cells = [f"{r['scores'][t, m].bleu:5.1f}/{r['scores'][t, m].chrf:5.1f}"
                 for t in ("short", "all") for m in ("greedy", "beam")]
        print(f"{r['name']:58s} {r['params'] / 1e6:6.1f}M {r['epochs']:3d} "
              f"{r['seconds'] / 60:5.1f} " + " ".join(f"{c:>12s}" for c in cells), flush=True)


if __name__ == "__main__":
    main()

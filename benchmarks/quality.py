"""Translation quality per architecture, for the same wall-clock training budget.

Usage:
    .venv/bin/python benchmarks/quality.py [--budget-minutes 15] [--rows lab,gru-1024-sorted,...]
        [--plot benchmarks/quality.png]

Trains every row on the bundled corpus (pairs of at most 20 words) for the same
budget, then prints one table: parameters, training speed (real target tokens
per second), epochs, best validation loss, test-split BLEU/chrF with greedy
search and beam 4, greedy decoding speed, and greedy BLEU by source length
(<= 10 words, > 10 words). The first row is the course lab's recipe, trained in
the same run: the baseline users know. A plot of validation loss against
training time is saved with `--plot` (needs matplotlib).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import keras_s2s  # noqa: E402
import keras_s2s.training  # noqa: E402
from keras_s2s.data import load_corpus  # noqa: E402
from keras_s2s.data.pipeline import make_dataset, teacher_forcing_arrays  # noqa: E402
from keras_s2s.evaluation import score_translations  # noqa: E402
from keras_s2s.text import PAD_ID  # noqa: E402
from keras_s2s.training import TimeBudget  # noqa: E402


@dataclasses.dataclass
class Row:
    """One line of the table: how to build and how to train a model."""

    name: str
    build: dict
    lab_training: bool = False  # pad every batch to the corpus maximum, unmasked loss
    learning_rate: float = 2e-3
    batching: dict = dataclasses.field(default_factory=dict)  # keras_s2s.train's options


# The course lab: word level, 8k vocabularies, GRU 1024 whose final state
# starts a GRU 1024 decoder, dense softmax, Adam's default step.
LAB_SIZE = dict(architecture="gru", tokenization="word", embedding_dim=256, hidden_dim=1024,
                source_vocabulary_size=8000, target_vocabulary_size=8000)
ROWS = {
    "lab": Row("course lab recipe (GRU 1024, padded, unmasked)", LAB_SIZE,
               lab_training=True, learning_rate=1e-3),
    "gru-1024": Row("gru at the lab's size (buckets, masked loss)", LAB_SIZE),
    "gru-1024-sorted": Row("gru at the lab's size (sorted batches, masked loss)", LAB_SIZE,
                           batching=dict(batching="sorted")),
    # As many pairs per batch as fit in the lab's batch of 64 x 37 target positions.
    "gru-1024-tokens": Row("gru at the lab's size (token-budget batches, masked loss)", LAB_SIZE,
                           batching=dict(batching="sorted", batch_tokens=64 * 37)),
    "gru": Row("gru (192/384, 5k vocabularies)", dict(architecture="gru", tokenization="word")),
    "gru-attention": Row("gru-attention (Luong)", dict(architecture="gru-attention",
                                                       tokenization="word", dropout=0.2,
                                                       tie_embeddings=False)),
    "gru-bahdanau": Row("gru-attention (Bahdanau)", dict(
        architecture="gru-attention", tokenization="word", attention="bahdanau", dropout=0.2,
        tie_embeddings=False)),
    "transformer": Row("transformer", dict(architecture="transformer", tokenization="word"),
                       learning_rate=1e-3),
    "gru-attention-wordpiece": Row(
        "gru-attention, WordPiece 5k", dict(architecture="gru-attention", dropout=0.2,
                                            tokenization="wordpiece", tie_embeddings=False)),
}
# The rows were measured (2026-11-26/27) before the training recipe became the default:
# they train as then, without smoothing, schedule or averaging (recipe_ablation.py adds those).
PLAIN_TRAINING = dict(label_smoothing=0.0, learning_rate_schedule="constant", average_last=0)
DEFAULT_ROWS = "lab,gru-1024-sorted,gru-attention,transformer,gru-attention-wordpiece"


class ValidationCurve(keras.callbacks.Callback):
    """Records (seconds since training began, validation loss) after each epoch."""

    def __init__(self):
        super().__init__()
        self.points = []

    def on_train_begin(self, logs=None):
        self.start = time.monotonic()

    def on_epoch_end(self, epoch, logs=None):
        self.points.append((time.monotonic() - self.start, (logs or {}).get("val_loss")))


def lab_datasets(model, splits, batch_size):
    """The lab's input: every batch padded to the longest pair of the corpus."""
    def padded(pairs, shuffle):
        sources, decoder_inputs, targets = teacher_forcing_arrays(
            pairs.sources, pairs.targets, source_encoder=model.source_encoder,
            target_encoder=model.target_encoder)
        width = int(max(sources.bounding_shape()[1], targets.bounding_shape()[1]))
        dense = [r.to_tensor(default_value=PAD_ID, shape=[None, width])
                 for r in (sources, decoder_inputs, targets)]
        dataset = tf.data.Dataset.from_tensor_slices(((dense[0], dense[1]), dense[2]))
        if shuffle:
            dataset = dataset.shuffle(len(pairs.sources), seed=0)
        return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)

    return padded(splits.train, True), padded(splits.validation, False)


def train_row(row, splits, budget_seconds, batch_size):
    keras.utils.set_random_seed(0)
    model = keras_s2s.build_model(splits.train, **row.build)
    curve = ValidationCurve()
    started = time.monotonic()
    if row.lab_training:
        train, validation = lab_datasets(model, splits, batch_size)
        model.compile(
            optimizer=keras.optimizers.Adam(row.learning_rate),
            # Unmasked: padding positions count as (easy) targets, as in the lab.
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        )
        model.fit(train, validation_data=validation, epochs=1000, verbose=2,
                  callbacks=[curve, TimeBudget(budget_seconds)])
        # Its validation loss averaged over padding too; score it like the others.
        keras_s2s.training.compile_model(model)
        masked = model.evaluate(make_dataset(splits.validation, source_encoder=model.source_encoder,
                                             target_encoder=model.target_encoder, shuffle=False),
                                verbose=0, return_dict=True)["loss"]
        curve.points = [(t, None) for t, _ in curve.points[:-1]] + [(curve.points[-1][0], masked)]
    else:
        keras_s2s.train(model, splits.train, splits.validation, epochs=1000,
                        batch_size=batch_size, learning_rate=row.learning_rate,
                        time_budget_seconds=budget_seconds, early_stopping_patience=1000,
                        verbose=2, callbacks=[curve], **row.batching, **PLAIN_TRAINING)
    seconds = time.monotonic() - started
    return model, curve.points, seconds


def real_target_tokens(model, pairs):
    """Tokens the decoder learns to predict per epoch (end token included)."""
    _, _, targets = teacher_forcing_arrays(pairs.sources, pairs.targets,
                                           source_encoder=model.source_encoder,
                                           target_encoder=model.target_encoder)
    return int(targets.row_lengths().numpy().sum())


def evaluate_row(model, test):
    started = time.monotonic()
    greedy = keras_s2s.translate(list(test.sources), model)
    greedy_seconds = time.monotonic() - started
    beam = keras_s2s.translate(list(test.sources), model, method="beam", beam_width=4)
    short = [i for i, s in enumerate(test.sources) if len(s.split()) <= 10]
    long = [i for i, s in enumerate(test.sources) if len(s.split()) > 10]

    def bleu(indices):
        return score_translations([greedy[i] for i in indices],
                                  [test.targets[i] for i in indices]).bleu

    return dict(
        greedy=score_translations(greedy, test.targets),
        beam=score_translations(beam, test.targets),
        decode_rate=len(test.sources) / greedy_seconds,
        bleu_short=bleu(short), bleu_long=bleu(long),
        sample=(test.sources[0], greedy[0], test.targets[0]),
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget-minutes", type=float, default=15.0)
    parser.add_argument("--rows", default=DEFAULT_ROWS,
                        help=f"comma-separated, from: {', '.join(ROWS)}")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--plot", default=None, help="save a validation-loss plot here")
    parser.add_argument("--attention-plot", default=None,
                        help="save the first attention row's heatmap of a test sentence here")
    parser.add_argument("--max-pairs", type=int, default=None,
                        help="use only this many training/test pairs (a quick check)")
    args = parser.parse_args()
    names = args.rows.split(",")
    unknown = [n for n in names if n not in ROWS]
    if unknown:
        parser.error(f"unknown rows {unknown}; choose from {list(ROWS)}")

    splits = load_corpus("bible-spa-eng", max_words=20)
    if args.max_pairs:
        splits = dataclasses.replace(
            splits, train=splits.train.take(args.max_pairs),
            validation=splits.validation.take(args.max_pairs // 4),
            test=splits.test.take(args.max_pairs // 4))
    print(f"Corpus: {len(splits.train.sources):,} training pairs, "
          f"{len(splits.test.sources):,} test pairs; budget {args.budget_minutes:g} min per row.")
    results = []
    for name in list(names):
        row = ROWS[name]
        print(f"\n=== {row.name} ===", flush=True)
        try:
            model, points, seconds = train_row(row, splits, 60 * args.budget_minutes,
                                               args.batch_size)
        except Exception as error:  # noqa: BLE001 - one broken row must not lose the others
            print(f"{row.name}: FAILED ({type(error).__name__}: {error})", flush=True)
            names.remove(name)
            continue
        epochs = len(points)
        tokens_per_second = real_target_tokens(model, splits.train) * epochs / seconds
        losses = [loss for _, loss in points if loss is not None]
        scores = evaluate_row(model, splits.test)
        print(f"{row.name}: {scores['greedy']} greedy, {scores['beam']} beam 4; "
              f"sample: {scores['sample']}", flush=True)
        if args.attention_plot and getattr(model, "attention_model", None) is not None:
            plot_attention_example(model, splits.test, args.attention_plot)
            args.attention_plot = None  # one is enough
        results.append((row, model.count_params(), tokens_per_second, epochs,
                        min(losses) if losses else float("nan"), scores, points))
        del model
        keras.backend.clear_session()

    header = (f"| {'model':48s} | params | train tok/s | epochs | best val loss | "
              f"BLEU greedy | chrF greedy | BLEU beam 4 | chrF beam 4 | decode sent/s | "
              f"BLEU ≤10 words | BLEU >10 words |")
    print("\n" + header)
    print("|" + "|".join("---" for _ in header.split("|")[1:-1]) + "|")
    for row, params, rate, epochs, best, s, _ in results:
        print(f"| {row.name:48s} | {params / 1e6:.1f}M | {rate:,.0f} | {epochs} | {best:.2f} | "
              f"{s['greedy'].bleu:.1f} | {s['greedy'].chrf:.1f} | {s['beam'].bleu:.1f} | "
              f"{s['beam'].chrf:.1f} | {s['decode_rate']:.0f} | {s['bleu_short']:.1f} | "
              f"{s['bleu_long']:.1f} |")
    by_name = dict(zip(names, results))
    for ours in ("gru-1024", "gru-1024-sorted", "gru-1024-tokens"):
        if "lab" in by_name and ours in by_name:
            print(f"\nTraining speed, {ROWS[ours].name} vs the lab recipe: "
                  f"{by_name[ours][2] / by_name['lab'][2]:.2f}x")
    if "lab" in by_name:
        best = max(results, key=lambda r: r[5]["beam"].bleu)
        lab_bleu = by_name["lab"][5]["beam"].bleu
        print(f"Best BLEU (beam 4): {best[0].name}, {best[5]['beam'].bleu:.1f} = "
              f"{best[5]['beam'].bleu / max(lab_bleu, 0.1):.1f}x the lab recipe's {lab_bleu:.1f}")
    if args.plot:
        plot_curves(results, args.plot)


def plot_attention_example(model, test, path):
    """The heatmap of a mid-length test sentence (12-16 words), for the README."""
    text = next((s for s in test.sources if 12 <= len(s.split()) <= 16), test.sources[0])
    figure = keras_s2s.plot_attention(keras_s2s.attention_map(model, text), path)
    print(f"Saved {path} ({text!r})")
    return figure


def plot_curves(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, ax = plt.subplots(figsize=(7, 4))
    for row, *_, points in results:
        if row.lab_training:
            continue  # its per-epoch loss averages over padding: not comparable
        seconds = [t / 60 for t, loss in points if loss is not None]
        ax.plot(seconds, [loss for _, loss in points if loss is not None], marker="o",
                label=row.name)
    ax.set_xlabel("training time (minutes, 2 CPU cores)")
    ax.set_ylabel("validation loss (per real token)")
    ax.set_title("Same budget, bundled Bible corpus (pairs <= 20 words)")
    ax.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    print(f"Saved {path}")


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    main()

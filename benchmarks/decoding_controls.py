"""What the decoding controls do to quality and to the failures users see.

Usage:
    .venv/bin/python benchmarks/decoding_controls.py [--saved-model saved_models/spa_eng/2]
        [--model runs/x.keras] [--verses 2000] [--sentences benchmarks/everyday_sentences.txt]
        [--wordpiece-rows]

For each row of settings: BLEU / chrF (sacrebleu) on the bundled corpus' test
split (pairs of at most 20 words), greedy and beam 4, and on `--verses`
training verses and on our everyday sentences the count of outputs that are
empty (for a non-empty input), show `[UNK]`, or loop (a word pair that occurs
three times or more). The model is the shipped one rebuilt from its export
(`keras_model_from_export`) unless `--model` is given; the first row decodes
as that export was made (no minimum length, `[UNK]` shown).
"""

from __future__ import annotations

import argparse
import collections
import os
import pathlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras_s2s  # noqa: E402
from keras_s2s.data import load_corpus  # noqa: E402
from keras_s2s.evaluation import score_translations  # noqa: E402

HERE = pathlib.Path(__file__).parent
ROWS = [
    ("as exported in 2026-11 (min_length 0, [UNK] shown)",
     dict(min_length=0, replace_unknown=False, no_repeat_ngram_size=0)),
    ("min_length 1, unknown words copied", dict(no_repeat_ngram_size=0)),
    ("+ no_repeat_ngram_size 3 (the defaults)", dict()),
    ("+ no_repeat_ngram_size 4 instead", dict(no_repeat_ngram_size=4)),
    ("+ repetition_penalty 1.2 instead", dict(no_repeat_ngram_size=0, repetition_penalty=1.2)),
    ("+ no_repeat 4 and repetition_penalty 1.2",
     dict(no_repeat_ngram_size=4, repetition_penalty=1.2)),
]

# For a WordPiece model (no [UNK] to copy). The n-gram ban counts pieces but never
# bans an n-gram inside one word (keras_s2s.decoding.controls, word_starts).
WORDPIECE_ROWS = [
    ("min_length 1, no n-gram ban", dict(no_repeat_ngram_size=0)),
    ("+ no_repeat_ngram_size 3 (across words)", dict(no_repeat_ngram_size=3)),
    ("+ no_repeat_ngram_size 4 (across words) instead", dict(no_repeat_ngram_size=4)),
    ("+ no_repeat_ngram_size 6 (across words) instead", dict(no_repeat_ngram_size=6)),
    ("+ repetition_penalty 1.2 instead", dict(no_repeat_ngram_size=0, repetition_penalty=1.2)),
]


def loops(text: str) -> bool:
    words = text.split()
    pairs = collections.Counter(zip(words, words[1:]))
    return any(count >= 3 for count in pairs.values())


def failures(sources, translations) -> tuple[int, int, int]:
    """(empty outputs for non-empty inputs, outputs with [UNK], looping outputs)."""
    empty = sum(1 for s, t in zip(sources, translations) if s.strip() and not t.strip())
    unknown = sum("[UNK]" in t for t in translations)
    return empty, unknown, sum(loops(t) for t in translations)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saved-model", default="saved_models/spa_eng/2")
    parser.add_argument("--model", help="a .keras model instead of the export's weights")
    parser.add_argument("--verses", type=int, default=2000)
    parser.add_argument("--sentences", default=str(HERE / "everyday_sentences.txt"))
    parser.add_argument("--wordpiece-rows", action="store_true",
                        help="the rows for a WordPiece model (n-gram bans of several sizes)")
    args = parser.parse_args()
    if args.model:
        model = keras_s2s.load(args.model)
    else:
        from keras_s2s.saved_model.restore import keras_model_from_export

        model = keras_model_from_export(args.saved_model)
    splits = load_corpus("bible-spa-eng", max_words=20)
    test, verses = splits.test, list(splits.train.sources[: args.verses])
    everyday = [line for line in pathlib.Path(args.sentences).read_text(
        encoding="utf-8").splitlines() if line.strip()]
    print(f"{len(test)} test pairs, {len(verses)} training verses, {len(everyday)} everyday "
          "sentences\n")
    header = (f"{'settings':50s} {'BLEU g':>6s} {'chrF g':>6s} {'BLEU b4':>7s} {'chrF b4':>7s}"
              f"  {'verses g':>11s} {'verses b4':>11s} {'everyday b4':>11s}")
    print(header)
    print("-" * len(header))
    for name, options in WORDPIECE_ROWS if args.wordpiece_rows else ROWS:
        greedy = keras_s2s.translate(list(test.sources), model, **options)
        beam = keras_s2s.translate(list(test.sources), model, method="beam", **options)
        g, b = score_translations(greedy, test.targets), score_translations(beam, test.targets)
        counts = [failures(texts, keras_s2s.translate(texts, model, **extra, **options))
                  for texts, extra in ((verses, {}), (verses, dict(method="beam")),
                                       (everyday, dict(method="beam")))]
        print(f"{name:50s} {g.bleu:6.1f} {g.chrf:6.1f} {b.bleu:7.1f} {b.chrf:7.1f}  "
              + " ".join(f"{'/'.join(map(str, c)):>11s}" for c in counts))
    print("\nverses / everyday: outputs that are empty / show [UNK] / loop (a word pair three "
          "times or more), greedy (g) or beam 4 (b4).")


if __name__ == "__main__":
    main()

"""Corpus-level BLEU and chrF with sacrebleu (the reference implementation,
13a tokenisation, case-sensitive), not a hand-written BLEU."""

from __future__ import annotations

from dataclasses import dataclass

import sacrebleu

from keras_s2s.translation import translate


@dataclass(frozen=True)
class Scores:
    bleu: float
    chrf: float
    num_sentences: int

    def __str__(self) -> str:
        return f"BLEU {self.bleu:.1f}  chrF {self.chrf:.1f}  ({self.num_sentences} sentences)"


def score_translations(hypotheses, references) -> Scores:
    """BLEU and chrF of `hypotheses` against one reference per sentence."""
    hypotheses, references = list(hypotheses), list(references)
    if len(hypotheses) != len(references):
        raise ValueError(
            f"{len(hypotheses)} hypotheses but {len(references)} references: they must pair up."
        )
    if not hypotheses:
        raise ValueError("Nothing to score: 0 sentences.")
    bleu = sacrebleu.corpus_bleu(hypotheses, [references])
    chrf = sacrebleu.corpus_chrf(hypotheses, [references])
    return Scores(bleu=bleu.score, chrf=chrf.score, num_sentences=len(hypotheses))


def evaluate(model, pairs, **translate_options):
    """Translates `pairs.sources` with `model` and scores against `pairs.targets`.

    Args:
        model: as in `keras_s2s.translate` (object, `.keras` path, SavedModel).
        pairs: `SentencePairs`.
        **translate_options: `decoding=` or decoding options, as in
            `keras_s2s.translate` (default: greedy search).

    Returns:
        `(Scores, hypotheses)`.
    """
    hypotheses = translate(list(pairs.sources), model, **translate_options)
    return score_translations(hypotheses, pairs.targets), hypotheses

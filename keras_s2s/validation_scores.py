"""BLEU and chrF of the model's own translations, during training.

The validation loss says how well the model predicts the next reference
token given the true previous ones; BLEU says how good its translations are
when it feeds itself. The two can disagree (label smoothing raises the loss
while BLEU improves; a model can sit on a loss plateau and still get
better), so early stopping and the best checkpoint may watch BLEU instead.
"""

from __future__ import annotations

import keras
import numpy as np

from keras_s2s.evaluation import score_translations

# The names the scores are logged under (History, progress bar, monitors).
from keras_s2s.recipe import SCORE_NAMES  # noqa: E402,F401
from keras_s2s.translation import translate


class ValidationScores(keras.callbacks.Callback):
    """Adds `val_bleu` and `val_chrf` (sacrebleu) to the epoch logs.

    Every `every_epochs` epochs it translates a fixed sample of the
    validation pairs greedily with `keras_s2s.translate` (batched, in the
    graph) and scores it with `keras_s2s.evaluation.score_translations`.

    Put it *before* the callbacks that read the scores (early stopping, the
    best-model checkpoint, loggers): Keras hands every callback the same logs
    dictionary in list order, and History and the progress bar come last.

    Args:
        validation_pairs: `SentencePairs` (or anything with `sources` and
            `targets`).
        every_epochs: score after every this many epochs (1: every epoch).
        sample_size: translate at most this many pairs, evenly spaced over
            the validation set and the same ones every time, so the scores of
            different epochs compare.

    Example:
        >>> scores = ValidationScores(splits.validation, sample_size=500)
        >>> stopping = keras.callbacks.EarlyStopping(monitor="val_bleu", mode="max")
        >>> model.fit(data, epochs=20, callbacks=[scores, stopping])
    """

    def __init__(self, validation_pairs, *, every_epochs: int = 1, sample_size: int = 500):
        super().__init__()
        for option, value in (("every_epochs", every_epochs), ("sample_size", sample_size)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{option} must be an integer >= 1, got {value!r}.")
        sources, targets = list(validation_pairs.sources), list(validation_pairs.targets)
        if not sources:
            raise ValueError("ValidationScores needs validation pairs; got 0.")
        chosen = sample_indices(len(sources), sample_size)
        self.sources = [sources[i] for i in chosen]
        self.references = [targets[i] for i in chosen]
        self.every_epochs = every_epochs
        self.translations = None  # the last scored epoch's, for a look at them

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every_epochs:
            return
        self.translations = translate(self.sources, self.model)
        scores = score_translations(self.translations, self.references)
        if logs is not None:  # the dictionary every later callback sees
            logs["val_bleu"], logs["val_chrf"] = scores.bleu, scores.chrf


def sample_indices(total: int, sample_size: int) -> list[int]:
    """`sample_size` indices spread evenly over `range(total)` (all, if fewer).

    Evenly spaced rather than the first ones: a corpus split in order (the
    Bible, book by book) would otherwise be scored on its first book only.

    Example:
        >>> sample_indices(10, 4)
        [0, 3, 6, 9]
    """
    if sample_size >= total:
        return list(range(total))
    return [int(i) for i in np.linspace(0, total - 1, sample_size).round()]

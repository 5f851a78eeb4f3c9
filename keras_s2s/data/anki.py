"""The Anki / Tatoeba pairs files the course and the TF tutorials use.

Format: `english<TAB>foreign<TAB>attribution` (English first). Downloading
needs internet and is cached by `keras.utils.get_file`; pass `path=` to use a
file you already have.
"""

from __future__ import annotations

import os
import pathlib

from keras_s2s.data.pairs import SentencePairs
from keras_s2s.data.tsv import load_tsv

ANKI_URL = "http://www.manythings.org/anki/{language}-eng.zip"


def download_anki_pairs(language: str = "spa", *, cache_dir=None) -> pathlib.Path:
    """Downloads (once) and unzips `{language}-eng.zip`; returns the `.txt` path."""
    import keras

    folder = keras.utils.get_file(
        f"{language}-eng", origin=ANKI_URL.format(language=language), extract=True,
        cache_dir=cache_dir,
    )
    candidates = sorted(pathlib.Path(folder).rglob(f"{language}.txt"))
    if not candidates:
        raise FileNotFoundError(f"{language}.txt not found in the download at {folder}.")
    return candidates[0]


def load_anki(
    language: str = "spa",
    *,
    reverse: bool = False,
    max_words: int | None = None,
    path: str | os.PathLike | None = None,
) -> SentencePairs:
    """Anki pairs with the foreign language as source and English as target.

    Args:
        language: the file's language code (`spa`, `fra`, `deu`, ...).
        reverse: English → foreign instead.
        max_words: keep pairs of at most this many words per side.
        path: a local copy of `{language}.txt`; otherwise it is downloaded.

    Example:
        >>> pairs = load_anki("spa", max_words=20)
    """
    if path is None:
        path = download_anki_pairs(language)
    english, foreign = 0, 1
    source, target = (english, foreign) if reverse else (foreign, english)
    return load_tsv(path, source_column=source, target_column=target, max_words=max_words)

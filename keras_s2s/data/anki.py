"""The Anki / Tatoeba sentence-pair files (manythings.org) that many NMT tutorials use.

Each language is a zip holding `{language}.txt`, one pair per line, English
first: `english<TAB>foreign<TAB>attribution`.
"""

from __future__ import annotations

import os
import pathlib

from keras_s2s.data.pairs import SentencePairs
from keras_s2s.data.tsv import load_tsv

ANKI_URL = "http://www.manythings.org/anki/{language}-eng.zip"

# Columns of an Anki file.
_ENGLISH_COLUMN = 0
_FOREIGN_COLUMN = 1


def download_anki_pairs(
    language: str = "spa", *, cache_dir: str | os.PathLike | None = None
) -> pathlib.Path:
    """Downloads `{language}-eng.zip` once, unzips it, and returns the `{language}.txt` path.

    Later calls find the zip in the Keras cache and do not download again.

    Args:
        language: the three-letter code of the file (`"spa"`, `"fra"`, `"deu"`, ...).
        cache_dir: the cache root (`~/.keras` by default); the files go into
            its `datasets/` folder.

    Returns:
        The path of the unzipped pairs file.

    Raises:
        OSError: the download failed (no internet, or the site refused).

    Example:
        >>> path = download_anki_pairs("spa")
        >>> path.name
        'spa.txt'
    """
    # Imported here so that reading local files never needs Keras/TensorFlow.
    import keras

    url = ANKI_URL.format(language=language)
    if cache_dir is not None:
        # get_file quietly uses /tmp/.keras instead of a cache_dir that does not exist yet.
        cache_dir = os.fspath(cache_dir)
        os.makedirs(cache_dir, exist_ok=True)
    try:
        downloaded = keras.utils.get_file(
            f"{language}-eng", origin=url, extract=True, cache_dir=cache_dir
        )
    except Exception as error:  # get_file raises a bare Exception on HTTP/URL errors
        raise OSError(
            f"Could not download {url} ({error}). Download it with a browser, unzip it, "
            f"and pass the file: load_anki({language!r}, path='{language}.txt')."
        ) from error
    # Recent Keras returns the folder it extracted into; older Keras returns
    # the archive and extracts next to it. Look in both places.
    downloaded = pathlib.Path(downloaded)
    folder = downloaded if downloaded.is_dir() else downloaded.parent
    found = sorted(folder.rglob(f"{language}.txt"))
    if not found:
        raise FileNotFoundError(
            f"{language}.txt is not in {url} (unzipped into {folder}); "
            "check the language code against https://www.manythings.org/anki/."
        )
    return found[0]


def load_anki(
    language: str = "spa",
    *,
    reverse: bool = False,
    max_words: int | None = None,
    path: str | os.PathLike | None = None,
) -> SentencePairs:
    """Anki pairs, by default from the foreign language (source) into English (target).

    Args:
        language: the three-letter code of the file (`"spa"`, `"fra"`, ...).
        reverse: translate English into the foreign language instead.
        max_words: keep pairs with at most this many words on both sides.
        path: a local `{language}.txt` (already downloaded, or a small file
            in the same format); without it the file is downloaded once.

    Returns:
        `SentencePairs` with references `"{language}.txt:<line>"`.

    Example:
        >>> pairs = load_anki("spa", path="spa.txt", max_words=10)
        Read 2 pairs from spa.txt; skipped 0 lines; kept 2 with at most 10 words per side.
        >>> pairs.sources[0], pairs.targets[0]
        ('Ve.', 'Go.')
    """
    if path is None:
        path = download_anki_pairs(language)
    source_column, target_column = _FOREIGN_COLUMN, _ENGLISH_COLUMN
    if reverse:
        source_column, target_column = target_column, source_column
    return load_tsv(
        path, source_column=source_column, target_column=target_column, max_words=max_words
    )

"""The SavedModel contract: what an export holds and what its signatures take
and return. The writer (`writer.py`), the Python client (`client.py`), the
warm-up file and `check_export` all read it from here.

    <base path>/<version>/saved_model.pb
                          variables/variables.{index,data-*}
                          assets.extra/keras_s2s_export.json      ExportInfo
                          assets.extra/tf_serving_warmup_requests warm-up requests

TF Serving ignores `assets.extra/` (it reads only the warm-up file there) and
every non-numeric directory under the base path.

No TensorFlow import at module level: the CLI reads this before deciding
whether it needs TensorFlow at all.
"""

from __future__ import annotations

import dataclasses
import json
import pathlib
from typing import NamedTuple

ASSETS_EXTRA = "assets.extra"
EXPORT_INFO_FILE = "keras_s2s_export.json"
WARMUP_FILE = "tf_serving_warmup_requests"  # the name TF Serving looks for
# Bumped when the contract changes in a way an older client cannot read.
FORMAT_VERSION = 2


class Signature(NamedTuple):
    """One serving signature: its input keys (all `string[batch]`) and output keys."""

    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    # The decoding it runs, in words (shown by `check_export`).
    description: str


TEXT = "text"  # the input of every signature: a batch of raw source sentences

SIGNATURES = {
    "serving_default": Signature(
        (TEXT,), ("translation", "score"),
        "the export's default search (beam or greedy): string[batch], float32[batch]"),
    "translate_greedy": Signature(
        (TEXT,), ("translation", "score"), "greedy search: string[batch], float32[batch]"),
    "translate_n_best": Signature(
        (TEXT,), ("translations", "scores"),
        "beam search, n_best results: string[batch, n_best], float32[batch, n_best]"),
}


def text_spec(name: str = TEXT):
    """The `tf.TensorSpec` of a string input: `string[batch]`."""
    import tensorflow as tf

    return tf.TensorSpec([None], tf.string, name=name)


@dataclasses.dataclass(frozen=True)
class ExportInfo:
    """What `keras_s2s_export.json` records about an export.

    decoding: the `serving_default` decoding settings (method, beam width, ...).
    n_best: results returned by `translate_n_best`.
    config: the model's Keras config (architecture, vocabularies).
    """

    decoding: dict
    n_best: int
    config: dict
    format_version: int = FORMAT_VERSION

    def write(self, version_dir: pathlib.Path) -> None:
        folder = pathlib.Path(version_dir) / ASSETS_EXTRA
        folder.mkdir(exist_ok=True)
        (folder / EXPORT_INFO_FILE).write_text(json.dumps(dataclasses.asdict(self)))

    @classmethod
    def read(cls, version_dir: pathlib.Path) -> ExportInfo:
        """Reads it back; a missing, broken or foreign file is a ValueError naming it."""
        path = pathlib.Path(version_dir) / ASSETS_EXTRA / EXPORT_INFO_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ValueError(f"{path} is missing: {version_dir} was not written by "
                             "keras_s2s.export (or is incomplete).") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ValueError(f"{path} is not readable export info: {error}") from None
        if not isinstance(data, dict):
            raise ValueError(f"{path}: expected a JSON object, got {type(data).__name__}.")
        if data.get("format_version") != FORMAT_VERSION:
            raise ValueError(
                f"{path}: export format {data.get('format_version')!r}, this keras_s2s reads "
                f"format {FORMAT_VERSION}; re-export the model with this version.")
        fields = {field.name for field in dataclasses.fields(cls)}
        missing = fields - set(data)
        if missing:
            raise ValueError(f"{path} lacks {sorted(missing)}.")
        return cls(**{key: data[key] for key in fields})

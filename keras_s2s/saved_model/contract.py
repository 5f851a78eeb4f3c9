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
FORMAT_VERSION = 3


class Signature(NamedTuple):
    """One serving signature: its input keys, output keys, and what it does."""

    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    description: str  # shown by `check_export`


# The inputs signatures take: key -> (dtype, shape). A batch of raw source
# sentences, a batch of target prefixes or targets, one sampling seed.
TEXT, PREFIX, TARGET, SEED = "text", "prefix", "target", "seed"
INPUTS = {TEXT: ("string", [None]), PREFIX: ("string", [None]), TARGET: ("string", [None]),
          SEED: ("int64", [])}

SIGNATURES = {
    "serving_default": Signature(
        (TEXT,), ("translation", "score"),
        "the export's search (beam or greedy): string[batch], float32[batch]"),
    "translate_greedy": Signature(
        (TEXT,), ("translation", "score"), "greedy search: string[batch], float32[batch]"),
    "translate_n_best": Signature(
        (TEXT,), ("translations", "scores"),
        "beam search, N results: string[batch, N], float32[batch, N]"),
    "translate_prefix": Signature(
        (TEXT, PREFIX), ("translation", "score"),
        "serving_default's search, each translation starting with its prefix"),
    "translate_sample": Signature(
        (TEXT, SEED), ("translation", "score"),
        "sampling (back-translation); seed int64 scalar: the same seed, the same samples"),
    "score": Signature(
        (TEXT, TARGET), ("log_prob", "score", "token_log_probs", "length"),
        "forced decoding: log p(target | text), float32[batch] (score: length-normalised), "
        "token_log_probs float32[batch, time], length int32[batch]"),
}
# The signatures that decode (all but `score`), each with DecodingSettings.
DECODING_SIGNATURES = tuple(name for name in SIGNATURES if name != "score")


def signature_settings(decoding, sampling=None) -> dict:
    """The decoding each signature runs, from the export's settings.

    `serving_default` runs `decoding` and returns its best result, and
    `translate_prefix` the same search from a forced prefix;
    `translate_greedy` is greedy search with the same length limits and
    controls; `translate_n_best` is beam search with `decoding`'s beam
    settings, returning `num_results` results (`beam_width` of them when
    `num_results` is 1, or when `decoding` is greedy); `translate_sample`
    samples with `sampling` (default: the whole distribution, temperature 1,
    as back-translation wants).
    """
    if decoding.method == "sample":
        raise ValueError("method='sample' cannot be exported as serving_default: it must "
                         "give the same translation for the same request (translate_sample "
                         "samples, with a seed).")
    beam = decoding.for_method("beam")
    n_best = decoding.num_results if decoding.num_results > 1 else beam.beam_width
    sampling = sampling if sampling is not None else decoding.for_method("sample")
    if sampling.method != "sample":
        raise ValueError(f"sampling must be settings with method='sample', got "
                         f"method={sampling.method!r}.")
    return {"serving_default": decoding.replace(num_results=1),
            "translate_greedy": decoding.for_method("greedy"),
            "translate_n_best": beam.replace(num_results=n_best),
            "translate_prefix": decoding.replace(num_results=1),
            "translate_sample": sampling}


def input_spec(key: str):
    """The `tf.TensorSpec` of a signature input."""
    import tensorflow as tf

    dtype, shape = INPUTS[key]
    return tf.TensorSpec(shape, getattr(tf, dtype), name=key)


@dataclasses.dataclass(frozen=True)
class ExportInfo:
    """What `keras_s2s_export.json` records about an export.

    signatures: for each signature the export has, what it runs: the
        decoding settings (`DecodingSettings.as_dict()`; for
        `translate_n_best`, its `num_results` is how many results it
        returns), and for `score` its `length_penalty`. Exports written before
        a signature existed lack it (saved_models/spa_eng/2 has the first three).
    config: the model's Keras config (architecture, vocabularies).
    """

    signatures: dict
    config: dict
    format_version: int = FORMAT_VERSION

    def decoding(self, signature_name: str):
        """The `DecodingSettings` behind one decoding signature (None if absent)."""
        from keras_s2s.decoding.settings import DecodingSettings

        if signature_name not in self.signatures:
            return None
        return DecodingSettings.from_dict(self.signatures[signature_name])

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
        if data.get("format_version") == 2:  # 2026-12-02: one settings dict + n_best
            data = _upgrade_format_2(data)
        if data.get("format_version") != FORMAT_VERSION:
            raise ValueError(
                f"{path}: export format {data.get('format_version')!r}, this keras_s2s reads "
                f"format {FORMAT_VERSION}; re-export the model with this version.")
        fields = {field.name for field in dataclasses.fields(cls)}
        missing = fields - set(data)
        if missing:
            raise ValueError(f"{path} lacks {sorted(missing)}.")
        unknown = sorted(set(data["signatures"]) - set(SIGNATURES))
        if unknown or "serving_default" not in data["signatures"]:
            raise ValueError(f"{path}: signatures {sorted(data['signatures'])}; expected "
                             f"serving_default and others of {sorted(SIGNATURES)}.")
        return cls(**{key: data[key] for key in fields})


def _upgrade_format_2(data: dict) -> dict:
    """Format 2 (saved_models/spa_eng/2) kept `serving_default`'s settings and
    `n_best`, and had three signatures; their graphs predate the decoding
    controls, so they decode as `min_length=0`, `replace_unknown=False`,
    `no_repeat_ngram_size=0` do."""
    from keras_s2s.decoding.settings import DecodingSettings

    decoding = DecodingSettings.from_dict(
        {**data["decoding"], "min_length": 0, "replace_unknown": False,
         "no_repeat_ngram_size": 0})
    if decoding.method == "beam":
        decoding = decoding.replace(num_results=data["n_best"])
    old_signatures = ("serving_default", "translate_greedy", "translate_n_best")
    signatures = {name: settings.as_dict() for name, settings in
                  signature_settings(decoding).items() if name in old_signatures}
    return dict(signatures=signatures, config=data["config"], format_version=FORMAT_VERSION)

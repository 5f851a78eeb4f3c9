"""Argument checks shared by the decoding settings and the search functions.

Plain Python (no TensorFlow import): `DecodingSettings` runs them before
TensorFlow is even loaded (the CLI reports a bad option in well under a
second). The search functions run the same checks on Python values and let
tensors through, whose value is unknown while a graph is traced.
"""

from __future__ import annotations

from keras_s2s.arguments import check_positive_integer, is_integer, is_number


def _require(ok: bool, name: str, allowed: str, value):
    if not ok:
        raise ValueError(f"{name} must be {allowed}, got {value!r}.")


def check_max_length(value):
    check_positive_integer("max_length", value, allow_none=True)


def check_beam(beam_width, num_results):
    # beam_width and num_results size buffers, so they must be known while tracing.
    _require(is_integer(beam_width) and beam_width >= 1, "beam_width",
             "a Python integer >= 1", beam_width)
    _require(is_integer(num_results) and 1 <= num_results <= beam_width, "num_results",
             f"an integer from 1 to beam_width={beam_width}", num_results)


def check_length_penalty(value):
    _require(is_number(value) and value >= 0, "length_penalty",
             "a number >= 0 (0 ranks by the raw log-probability)", value)


def check_temperature(value):
    _require(is_number(value) and value > 0, "temperature", "a number > 0", value)


def check_top_k(value):
    _require(is_integer(value) and value >= 0, "top_k",
             "an integer >= 0 (0 samples from the whole vocabulary)", value)


def check_top_p(value):
    _require(is_number(value) and 0.0 < value <= 1.0, "top_p",
             "a number in (0, 1] (1 keeps every token)", value)


def check_seed(value):
    _require(value is None or is_integer(value), "seed", "an integer or None", value)


def check_min_length(value):
    _require(is_integer(value) and value >= 0, "min_length",
             "an integer >= 0 (tokens before the end token; 0 allows an empty translation)",
             value)


def check_no_repeat_ngram_size(value):
    _require(value is None or (is_integer(value) and value >= 0), "no_repeat_ngram_size",
             "an integer >= 0 (0: off)", value)


def check_repetition_penalty(value):
    _require(is_number(value) and value > 0, "repetition_penalty",
             "a number > 0 (1: off; > 1 penalises repeated tokens)", value)


def check_replace_unknown(value):
    _require(value is None or isinstance(value, bool), "replace_unknown",
             "True, False or None", value)


def check_jit_compile(value):
    _require(isinstance(value, bool), "jit_compile", "True or False", value)

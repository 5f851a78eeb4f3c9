"""Argument checks shared by the decoding settings and the search functions.

Plain Python (no TensorFlow import): `DecodingSettings` runs them before
TensorFlow is even loaded (the CLI reports a bad option in well under a
second). The search functions run the same checks on Python values and let
tensors through, whose value is unknown while a graph is traced.
"""

from __future__ import annotations

from keras_s2s.arguments import check_positive_integer, is_integer, is_number


def check_max_length(value):
    check_positive_integer("max_length", value, allow_none=True)


def check_beam(beam_width, num_results):
    # beam_width and num_results size buffers, so they must be known while tracing.
    if not is_integer(beam_width) or beam_width < 1:
        raise ValueError(f"beam_width must be a Python integer >= 1, got {beam_width!r}.")
    if not is_integer(num_results) or not 1 <= num_results <= beam_width:
        raise ValueError(
            f"num_results must be an integer from 1 to beam_width ({beam_width}), "
            f"got {num_results!r}."
        )


def check_length_penalty(value):
    if not is_number(value) or value < 0:
        raise ValueError(
            f"length_penalty must be a number >= 0 (0 ranks by the raw log-probability), "
            f"got {value!r}."
        )


def check_temperature(value):
    if not is_number(value) or value <= 0:
        raise ValueError(f"temperature must be a number > 0, got {value!r}.")


def check_top_k(value):
    if not is_integer(value) or value < 0:
        raise ValueError(
            f"top_k must be an integer >= 0 (0 samples from the whole vocabulary), "
            f"got {value!r}."
        )


def check_seed(value):
    if value is not None and not is_integer(value):
        raise ValueError(f"seed must be an integer or None, got {value!r}.")


def check_top_p(value):
    if not is_number(value) or not 0.0 < value <= 1.0:
        raise ValueError(f"top_p must be a number in (0, 1] (1 keeps every token), "
                         f"got {value!r}.")


def check_min_length(value):
    if not is_integer(value) or value < 0:
        raise ValueError(f"min_length must be an integer >= 0 (tokens before the end token; "
                         f"0 allows an empty translation), got {value!r}.")


def check_no_repeat_ngram_size(value):
    if not is_integer(value) or value < 0:
        raise ValueError(f"no_repeat_ngram_size must be an integer >= 0 (0: off), "
                         f"got {value!r}.")


def check_repetition_penalty(value):
    if not is_number(value) or value <= 0:
        raise ValueError(f"repetition_penalty must be a number > 0 (1: off; > 1 penalises "
                         f"repeated tokens), got {value!r}.")


def check_replace_unknown(value):
    if value is not None and not isinstance(value, bool):
        raise ValueError(f"replace_unknown must be True, False or None, got {value!r}.")

"""Model-agnostic decoding: greedy search, beam search and sampling.

Each is a plain function of TF ops over a step function

    step_fn(token_ids int32 [batch], state) -> (logits [batch, vocab], new_state)

and an initial state (any nest of tensors, batch first). They know nothing of
Keras, run batched in a `tf.while_loop` (no Python loop per token), work
eagerly or inside `tf.function`, and compile with `jit_compile=True` when
`max_length` is a Python int. XLA does not apply on GPU to models whose step
runs cuDNN RNN kernels (XLA cannot compile them); there, compile without it.
"""

from keras_s2s.decoding.beam import beam_search
from keras_s2s.decoding.common import (
    BeamSearchResult,
    SearchResult,
    validate_beam_arguments,
    validate_max_length,
    validate_sampling_arguments,
)
from keras_s2s.decoding.greedy import greedy_search
from keras_s2s.decoding.sampling import sample

__all__ = [
    "BeamSearchResult",
    "SearchResult",
    "beam_search",
    "greedy_search",
    "sample",
    "validate_beam_arguments",
    "validate_max_length",
    "validate_sampling_arguments",
]

"""Model-agnostic decoding: greedy search, beam search and sampling.

Each is a plain function of TF ops over a step function

    step_fn(token_ids int32 [batch], state) -> (logits [batch, vocab], new_state)

and an initial state (any nest of tensors, batch first). They know nothing of
Keras, run batched in a `tf.while_loop` (no Python loop per token), work
eagerly or inside `tf.function`, and compile with `jit_compile=True` when
`max_length` is a Python int. XLA does not apply on GPU to models whose step
runs cuDNN RNN kernels (XLA cannot compile them); there, compile without it.

| piece | module |
| --- | --- |
- what to decode with, `DecodingSettings` (no TensorFlow): `settings.py`, `checks.py`;
- greedy search, sampling, and the token loop they share: `greedy.py`,
  `sampling.py`, `token_loop.py`;
- beam search (entry and fixed-shape loop), the live-beam loop, the finished
  set: `beam.py`, `live_beams.py`, `finished.py`;
- results; loop bounds, per-row limits, buffer writes: `results.py`, `buffers.py`.

Names are imported on first use (PEP 562), so `keras_s2s.decoding.settings`
loads without TensorFlow.
"""

from keras_s2s.lazy_import import lazy_names

# public name -> module that defines it
_EXPORTS = {
    "BeamSearchResult": "keras_s2s.decoding.results",
    "DecodingSettings": "keras_s2s.decoding.settings",
    "METHODS": "keras_s2s.decoding.settings",
    "SearchResult": "keras_s2s.decoding.results",
    "beam_search": "keras_s2s.decoding.beam",
    "greedy_search": "keras_s2s.decoding.greedy",
    "sample": "keras_s2s.decoding.sampling",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_names(__name__, _EXPORTS)

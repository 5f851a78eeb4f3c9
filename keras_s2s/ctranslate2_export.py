"""Our Transformer as a CTranslate2 model: `export_ctranslate2(model, output_dir)`.

CTranslate2 is a C++ inference engine for Transformer translation models. It
loads no graph, only weights laid out as its `TransformerSpec` declares, so the
conversion is a mapping from our layers to that spec:

    ours (keras_s2s.models.transformer)        CTranslate2 spec
    source/target token + position embeddings  embeddings, position_encodings
                                               (learned, NOT scaled by sqrt(d))
    block.self_attention_norm                  layer.self_attention.layer_norm
    query, self_key_value.key / .value         layer.self_attention.linear[0] (fused QKV)
    cross_key_values[i].key / .value           layer.attention.linear[1] (fused KV)
    feed_forward_norm, expand, contract        layer.ffn.layer_norm, linear_0, linear_1
    encoder_norm / decoder_norm                encoder.layer_norm / decoder.layer_norm
    output_projection                          decoder.projection

Keras' `Dense` kernel is `(in, out)`; CTranslate2's linear weight is `(out, in)`.
Both scale queries by `head_dim ** -0.5` and split heads over the last axis
the same way, so the attention arithmetic needs no change. The LayerNorm
epsilon (Keras' 1e-3) goes into the model's `config.json` as
`layer_norm_epsilon`: CTranslate2's default, 1e-6, would change the logits.

What differs from our decoding is in `NOTES` (also written next to the model).

Example:
    >>> from keras_s2s.ctranslate2_export import export_ctranslate2
    >>> export_ctranslate2(model, "runs/ct2_int8", quantization="int8")
"""

from __future__ import annotations

import os
import pathlib
import shutil
import tempfile

import keras
import numpy as np

from keras_s2s.models.transformer import TransformerSeq2Seq
from keras_s2s.text import END_TOKEN, START_TOKEN, UNKNOWN_TOKEN

NOTES_FILE = "KERAS_S2S_NOTES.md"
NOTES = f"""\
# Converted from a keras_s2s TransformerSeq2Seq

- Tokens in, tokens out: tokenise with the Keras model's own
  `model.source_encoder.tokens(...)` and detokenise with
  `model.target_encoder.decode(...)`; `keras_s2s.ctranslate2_translation` does both.
- The decoder starts from `{START_TOKEN}` (decoder_start_token = bos_token) and
  stops at `{END_TOKEN}` (eos_token); unknown words are `{UNKNOWN_TOKEN}`. No token
  is added to the source (add_source_bos / add_source_eos are false, as ours).
- Decoding options that match ours: `beam_size=1` for greedy (CTranslate2's
  default is 2), `length_penalty=0` (default 1: it divides greedy scores too),
  `min_decoding_length=0` (default 1 forbids `{END_TOKEN}` as the first token;
  ours does not), and `return_end_token=True` to get `{END_TOKEN}` back.
- Length penalty: ours ranks beams by `log_prob / ((5 + length) / 6) ** alpha`
  (GNMT; length counts `{END_TOKEN}`); CTranslate2 by `log_prob / length ** alpha`
  (length counts `{END_TOKEN}` only with return_end_token=True), and with
  alpha != 0 it stops once beam_size * patience hypotheses have finished, where
  ours stops when no live beam can still win. With alpha = 0 both stop when the
  best live beam cannot beat the best finished one: the same search, and the
  same ids up to float rounding on near-ties.
- Length limits: ours cuts each sentence at min(2 * source tokens + 10,
  max_target_length); `max_decoding_length` is one number per call
  (`search_ctranslate2` makes one call per distinct limit). Ours clips positions
  past its learned embeddings (max_source_length / max_target_length) to the
  last one; CTranslate2 has no such positions and raises "No position encodings
  are defined for positions >= N": keep `max_input_length <= max_source_length`
  and `max_decoding_length <= max_target_length`.
- LayerNorm epsilon: `layer_norm_epsilon` in config.json is Keras' 1e-3;
  CTranslate2's default (1e-6) changes the logits enough to change translations.
"""


def export_ctranslate2(model, output_dir, *, quantization: str | None = None,
                       overwrite: bool = False) -> pathlib.Path:
    """Writes `model` as a CTranslate2 model directory.

    Args:
        model: a `keras_s2s.models.TransformerSeq2Seq` (pre-norm, learned
            positions, ReLU feed-forward: what ours always is).
        output_dir: the directory to create (`model.bin`, `config.json`, the
            source/target vocabularies and `KERAS_S2S_NOTES.md`).
        quantization: CTranslate2 weight type, e.g. `"int8"`, `"float16"`;
            `None` keeps float32.
        overwrite: replace an existing `output_dir`.

    Returns:
        The output directory. It is written under a temporary name and renamed
        at the end, so a failed conversion leaves no half-written model.

    Raises:
        ValueError: not our Transformer, an unsupported layer setting, an
            unknown quantization, or `output_dir` exists and not `overwrite`.

    Example:
        >>> path = export_ctranslate2(model, "runs/ct2")
        >>> translator = ctranslate2.Translator(str(path))
    """
    accepted = _ctranslate2_specs().model_spec.ACCEPTED_MODEL_TYPES
    output_dir = pathlib.Path(output_dir)
    if output_dir.exists() and not overwrite:
        raise ValueError(f"{output_dir} exists; pass overwrite=True to replace it.")
    if quantization is not None and quantization not in accepted:
        raise ValueError(f"quantization must be None or one of {accepted}, got {quantization!r}.")
    spec = transformer_spec(model)
    spec.validate()
    spec.optimize(quantization=quantization)
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    temporary = pathlib.Path(tempfile.mkdtemp(prefix=f".{output_dir.name}.", dir=output_dir.parent))
    try:
        spec.save(str(temporary))
        (temporary / NOTES_FILE).write_text(NOTES, encoding="utf-8")
        if output_dir.exists():
            shutil.rmtree(output_dir)
        os.replace(temporary, output_dir)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
    return output_dir


def transformer_spec(model):
    """`model`'s weights and vocabularies as a `ctranslate2.specs.TransformerSpec`.

    Example:
        >>> spec = transformer_spec(model)
        >>> spec.save("runs/ct2")  # what export_ctranslate2 does, minus the checks
    """
    specs = _ctranslate2_specs().transformer_spec
    check_convertible(model)
    encoder = specs.TransformerEncoderSpec(model.num_layers, model.num_heads, pre_norm=True)
    decoder = specs.TransformerDecoderSpec(model.num_layers, model.num_heads, pre_norm=True)
    # Our embeddings are added to the position embeddings as they are; the
    # original Transformer (and CTranslate2's default) multiplies by sqrt(d).
    encoder.scale_embeddings = False
    decoder.scale_embeddings = False
    _set_embeddings(encoder.embeddings[0], encoder.position_encodings, model.source_embedding)
    _set_embeddings(decoder.embeddings, decoder.position_encodings, model.target_embedding)
    for layer_spec, block in zip(encoder.layer, model.encoder_blocks):
        _set_self_attention(layer_spec.self_attention, block)
        _set_feed_forward(layer_spec.ffn, block)
    for layer_spec, block, cross in zip(decoder.layer, model.decoder_blocks,
                                        model.cross_key_values):
        _set_self_attention(layer_spec.self_attention, block)
        _set_cross_attention(layer_spec.attention, block, cross)
        _set_feed_forward(layer_spec.ffn, block)
    _set_layer_norm(encoder.layer_norm, model.encoder_norm)
    _set_layer_norm(decoder.layer_norm, model.decoder_norm)
    _set_linear(decoder.projection, model.output_projection)

    spec = specs.TransformerSpec(encoder, decoder)
    spec.register_source_vocabulary(list(model.source_vocabulary))
    spec.register_target_vocabulary(list(model.target_vocabulary))
    config = spec.config
    config.unk_token = UNKNOWN_TOKEN
    config.bos_token = START_TOKEN
    config.eos_token = END_TOKEN
    config.decoder_start_token = START_TOKEN
    # One epsilon for every LayerNorm of the model (check_convertible made sure).
    config.layer_norm_epsilon = float(model.encoder_norm.epsilon)
    return spec


def _ctranslate2_specs():
    try:
        import ctranslate2.specs
    except ImportError as error:
        raise ImportError("Converting to CTranslate2 needs the ctranslate2 package: "
                          'pip install "keras_s2s[bench]" (or pip install ctranslate2).') from error
    return ctranslate2.specs


def layer_norms(model) -> list:
    """Every LayerNormalization layer the converted model uses."""
    norms = [model.encoder_norm, model.decoder_norm]
    for block in [*model.encoder_blocks, *model.decoder_blocks]:
        norms += [block.self_attention_norm, block.feed_forward_norm]
    norms += [block.cross_attention_norm for block in model.decoder_blocks]
    return norms


def check_convertible(model):
    """Raises ValueError unless `model` is a Transformer CTranslate2 can run as is."""
    if not isinstance(model, TransformerSeq2Seq):
        raise ValueError(
            "export_ctranslate2 converts a keras_s2s TransformerSeq2Seq (architecture="
            f"'transformer'); got {type(model).__name__}. CTranslate2 runs Transformers only."
        )
    if getattr(model, "tie_embeddings", False):
        raise ValueError("export_ctranslate2 does not convert tied embeddings yet (its output "
                         "layer has no kernel of its own); export a model trained without "
                         "tie_embeddings.")
    norms = layer_norms(model)
    epsilons = {float(norm.epsilon) for norm in norms}
    if len(epsilons) != 1:
        raise ValueError(f"CTranslate2 takes one LayerNorm epsilon; this model has {epsilons}.")
    for norm in norms:
        if not (norm.center and norm.scale) or getattr(norm, "rms_scaling", False):
            raise ValueError(f"{norm.name}: CTranslate2 needs a LayerNorm with both "
                             "center and scale, without rms_scaling.")
    for block in [*model.encoder_blocks, *model.decoder_blocks]:
        if block.feed_forward.expand.activation is not keras.activations.relu:
            raise ValueError(f"{block.name}: the feed-forward activation must be ReLU, got "
                             f"{block.feed_forward.expand.activation.__name__}.")


def _weights(variable) -> np.ndarray:
    # Variables stay float32 under a mixed-precision policy; cast anyway (a
    # bfloat16 or float64 array would not be a type CTranslate2 stores).
    return np.asarray(variable.numpy(), dtype=np.float32)


def _set_embeddings(token_spec, position_spec, embedding):
    token_spec.weight = _weights(embedding.token_embedding.embeddings)
    position_spec.encodings = _weights(embedding.position_embedding.embeddings)


def _set_linear(spec, dense):
    spec.weight = _weights(dense.kernel).T  # Keras (in, out) -> CTranslate2 (out, in)
    if dense.use_bias:
        spec.bias = _weights(dense.bias)


def _set_fused(spec, *denses):
    """Dense layers fused along their outputs: weight `(sum of outs, in)`, one bias."""
    spec.weight = np.concatenate([_weights(dense.kernel).T for dense in denses], axis=0)
    spec.bias = np.concatenate([_weights(dense.bias) if dense.use_bias
                                else np.zeros([dense.units], np.float32) for dense in denses])


def _set_layer_norm(spec, norm):
    spec.gamma = _weights(norm.gamma)
    spec.beta = _weights(norm.beta)


def _set_self_attention(spec, block):
    attention, key_value = block.self_attention, block.self_key_value
    _set_layer_norm(spec.layer_norm, block.self_attention_norm)
    _set_fused(spec.linear[0], attention.query_projection, key_value.key_projection,
               key_value.value_projection)
    _set_linear(spec.linear[1], attention.output_projection)


def _set_cross_attention(spec, block, cross_key_value):
    attention = block.cross_attention
    _set_layer_norm(spec.layer_norm, block.cross_attention_norm)
    _set_linear(spec.linear[0], attention.query_projection)
    # Ours projects the encoder's keys/values once per sentence in a layer of
    # the model (cross_key_values); CTranslate2 does the same inside the layer.
    _set_fused(spec.linear[1], cross_key_value.key_projection, cross_key_value.value_projection)
    _set_linear(spec.linear[2], attention.output_projection)


def _set_feed_forward(spec, block):
    _set_layer_norm(spec.layer_norm, block.feed_forward_norm)
    _set_linear(spec.linear_0, block.feed_forward.expand)
    _set_linear(spec.linear_1, block.feed_forward.contract)

"""The architectures `build_model` (and `keras-s2s train --architecture`) offers,
by name, and the choices inside them. Plain data, no TensorFlow import: the
CLI offers these choices before it loads TensorFlow.

Each name is a preset: the model class's options it fixes.
"""

from __future__ import annotations

CELL_TYPES = ("gru", "lstm")
ATTENTION_TYPES = ("luong", "bahdanau")  # see models/attention_layers.py
# "word": one token per word or punctuation mark; "wordpiece": words cut into
# subword pieces (see keras_s2s.subwords).
TOKENIZATIONS = ("word", "wordpiece")

# name -> the RNNSeq2Seq options it sets (None: the Transformer). "gru" and
# "lstm" are the course's plain encoder-decoder; the attention presets are the
# training recipe's model (issue #16, README "Training recipe"): dropout 0.2
# and the output softmax tied to the target embedding, which help small data.
# Options given to build_model override a preset's.
ARCHITECTURE_PRESETS = {
    "gru": dict(cell_type="gru", attention=None),
    "lstm": dict(cell_type="lstm", attention=None),
    "gru-attention": dict(cell_type="gru", attention="luong", dropout=0.2, tie_embeddings=True),
    "lstm-attention": dict(cell_type="lstm", attention="luong", dropout=0.2,
                           tie_embeddings=True),
    "transformer": None,
}
ARCHITECTURES = tuple(ARCHITECTURE_PRESETS)
# What build_model (and keras-s2s train) make when not told: the recipe's model.
DEFAULT_ARCHITECTURE = "gru-attention"
DEFAULT_TOKENIZATION = "wordpiece"

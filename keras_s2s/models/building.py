"""From training pairs to an untrained model: vocabularies + architecture."""

from __future__ import annotations

from keras_s2s.arguments import check_choice
from keras_s2s.models.architectures import ARCHITECTURE_PRESETS, ARCHITECTURES
from keras_s2s.models.rnn import RNNSeq2Seq
from keras_s2s.models.transformer import TransformerSeq2Seq
from keras_s2s.text import Vocabulary


def build_model(
    train_pairs,
    *,
    architecture: str = "gru-attention",
    source_vocabulary_size: int = 5000,
    target_vocabulary_size: int = 5000,
    min_count: int = 1,
    lowercase_source: bool = True,
    lowercase_target: bool = False,
    tokenization: str = "wordpiece",
    **model_options,
):
    """Builds vocabularies from `train_pairs` and the chosen architecture.

    Args:
        train_pairs: `SentencePairs` (only the training split: the vocabulary
            must not peek at validation or test text).
        architecture: one of `ARCHITECTURES`; the default is the training
            recipe's model (`DEFAULT_ARCHITECTURE`: attention, dropout 0.2, tied
            output embedding); `"gru"` is the course's plain encoder-decoder.
        source_vocabulary_size, target_vocabulary_size: caps, reserved tokens
            included; rarer words become the unknown token.
        min_count: words seen fewer times are left out of the vocabulary.
        lowercase_source, lowercase_target: see `keras_s2s.models.Seq2Seq`.
        tokenization: `"wordpiece"` (default: subword vocabularies of these sizes,
            learned with tensorflow-text, see `keras_s2s.subwords`; no unknown
            words), or `"word"` (one token per word, the course's).
        **model_options: the architecture's own options (`embedding_dim`,
            `hidden_dim`, `num_layers`, `dropout`, `max_source_length`, ...).

    Example:
        >>> model = build_model(splits.train, architecture="lstm", hidden_dim=256)
    """
    check_choice("architecture", architecture, ARCHITECTURES)
    if "attention" in model_options and not architecture.endswith("-attention"):
        raise ValueError(
            f"attention={model_options['attention']!r} applies to the RNN attention "
            f"architectures ('gru-attention', 'lstm-attention'), not {architecture!r}."
        )
    source_vocabulary = Vocabulary.build(
        train_pairs.sources, lowercase=lowercase_source,
        max_size=source_vocabulary_size, min_count=min_count, tokenization=tokenization,
    )
    target_vocabulary = Vocabulary.build(
        train_pairs.targets, lowercase=lowercase_target,
        max_size=target_vocabulary_size, min_count=min_count, tokenization=tokenization,
    )
    if architecture == "transformer":
        if "embedding_dim" in model_options:
            raise ValueError("embedding_dim does not apply to architecture='transformer' "
                             "(its embeddings are hidden_dim wide).")
        return TransformerSeq2Seq(
            source_vocabulary.tokens, target_vocabulary.tokens,
            lowercase_source=lowercase_source, lowercase_target=lowercase_target,
            tokenization=tokenization, **model_options,
        )
    # "gru" / "lstm": the classic model; "-attention": bidirectional encoder and
    # Luong attention unless `attention=` says otherwise (see keras_s2s.models.rnn).
    preset = dict(ARCHITECTURE_PRESETS[architecture])
    preset.update(model_options)
    return RNNSeq2Seq(
        source_vocabulary.tokens,
        target_vocabulary.tokens,
        lowercase_source=lowercase_source,
        lowercase_target=lowercase_target,
        tokenization=tokenization,
        **preset,
    )

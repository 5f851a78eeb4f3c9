"""Encoder–decoder architectures, each exposing training/encoder/decoder models."""

from keras_s2s.models.attention import AttentionRNNSeq2Seq
from keras_s2s.models.attention_layers import BahdanauAttention, LuongAttention
from keras_s2s.models.base import Seq2Seq
from keras_s2s.models.building import ARCHITECTURES, build_model
from keras_s2s.models.rnn import RNNSeq2Seq
from keras_s2s.models.transformer import TransformerSeq2Seq

__all__ = [
    "ARCHITECTURES",
    "AttentionRNNSeq2Seq",
    "BahdanauAttention",
    "LuongAttention",
    "RNNSeq2Seq",
    "Seq2Seq",
    "TransformerSeq2Seq",
    "build_model",
]

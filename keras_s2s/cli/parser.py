"""The `keras-s2s` argument parser: one function per command.

Imports no TensorFlow, so `--help` and every argument error answer at once.
Defaults shown in `--help` are the library's (see `keras_s2s.cli.defaults`);
options left unset are not passed on, so the library signature stays their
one home.
"""

from __future__ import annotations

from keras_s2s.cli.options import (
    FORMATS,
    UNSET,
    OneLineParser,
    add_data_options,
    add_decoding_options,
    add_model_option,
    add_training_options,
    add_verbosity_options,
    boolean,
    default_of,
    positive_integer,
)
from keras_s2s.cli.options import signature_defaults as _defaults
from keras_s2s.models.architectures import (
    ARCHITECTURE_PRESETS,
    ARCHITECTURES,
    ATTENTION_TYPES,
    DEFAULT_ARCHITECTURE,
    DEFAULT_TOKENIZATION,
    TOKENIZATIONS,
)

# Option values, kept here so `--help` does not import TensorFlow (= distribution.*).
STRATEGIES = ("default", "mirrored", "multi-worker", "tpu")
MIXED_PRECISION_POLICIES = ("mixed_float16", "mixed_bfloat16")
TRAIN = ("keras_s2s.training", "train")
EXPORT_FORMATS = ("saved-model", "ctranslate2")
# CTranslate2's weight types (its ACCEPTED_MODEL_TYPES; a test holds them equal).
CTRANSLATE2_QUANTIZATIONS = ("int8", "int8_float32", "int8_float16", "int8_bfloat16", "int16",
                             "float16", "bfloat16", "float32")


def build_parser() -> OneLineParser:
    """The whole command line: `keras-s2s COMMAND [options]`."""
    parser = OneLineParser(
        prog="keras-s2s",
        description="Train, run and score encoder-decoder translation models. "
        "Errors are one line on stderr, exit code 2.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_train(commands)
    _add_translate(commands)
    _add_evaluate(commands)
    _add_score(commands)
    _add_export(commands)
    _add_check_export(commands)
    _add_average(commands)
    parser.commands = commands.choices  # command name -> its parser, for errors
    return parser


def _model_default(name: str) -> str:
    rnn = _defaults("keras_s2s.models.rnn", "RNNSeq2Seq.__init__")
    transformer = _defaults("keras_s2s.models.transformer", "TransformerSeq2Seq.__init__")
    # The presets that set it (the attention ones set dropout and tying).
    presets = "; ".join(f"{preset} {options[name]}" for preset, options in
                        ARCHITECTURE_PRESETS.items() if options and name in options)
    if name in rnn and name in transformer:
        shown = (f"default: {presets}; other RNNs {rnn[name]}" if presets
                 else f"default {rnn[name]}")
        return f"{shown}; transformer {transformer[name]}"
    if name in transformer:
        shown = transformer[name] if transformer[name] is not None else "4 x hidden-dim"
        return f"default {shown}"
    return f"default {rnn[name]}"


def _add_train(commands):
    train = commands.add_parser(
        "train", help="train a model on a corpus or a TSV file",
        description="Train a model; prints validation loss per epoch, BLEU/chrF on the "
        "held-out split and sample translations, then saves the model. Every data check "
        "(too few pairs, an empty split, bad lines) runs before training starts.")
    add_data_options(train)
    train.add_argument("--validation-data", metavar="FILE.tsv", default=UNSET,
                       help="validate on this file (read like --data) and train on all of "
                       "--data (default: one pair in 20 of --data)")
    model = train.add_argument_group("model")
    model.add_argument("--architecture", choices=list(ARCHITECTURES), default=UNSET,
                       help="gru / lstm: the classic encoder-decoder; -attention: with a "
                       "bidirectional encoder and Luong attention (the training recipe's "
                       "model); transformer: self-attention encoder-decoder "
                       f"(default {DEFAULT_ARCHITECTURE})")
    model.add_argument("--tokenization", choices=list(TOKENIZATIONS), default=UNSET,
                       help="word-level vocabularies or WordPiece subwords (rare words "
                       f"spelled in pieces instead of [UNK]) (default {DEFAULT_TOKENIZATION})")
    model.add_argument("--attention", choices=list(ATTENTION_TYPES), default=UNSET,
                       help="attention score for the -attention architectures: luong "
                       "(multiplicative) or bahdanau (additive) (default luong)")
    for flag, kind, text in (
        ("--embedding-dim", int, "token embedding size (RNNs)"),
        ("--hidden-dim", int, "RNN state size (transformer: model width)"),
        ("--num-layers", int, "stacked RNN layers (transformer: blocks) per side"),
        ("--num-heads", int, "attention heads (transformer only)"),
        ("--intermediate-dim", int, "feed-forward width (transformer only)"),
        ("--dropout", float, "dropout rate"),
        ("--tie-embeddings", boolean, "yes: the output softmax shares the target embedding"),
    ):
        model.add_argument(flag, type=kind, default=UNSET,
                           help=f"{text} ({_model_default(flag[2:].replace('-', '_'))})")
    for side in ("source", "target"):
        model.add_argument(f"--{side}-vocabulary-size", type=int, default=UNSET,
                           help=f"{side} vocabulary cap, reserved tokens included ("
                           + default_of("keras_s2s.models.building", "build_model",
                                        f"{side}_vocabulary_size") + ")")
    _add_fit_options(train)
    add_verbosity_options(train, progress=False)


def _add_fit_options(train):
    add_training_options(train)
    fit = train.add_argument_group("run")
    fit.add_argument("--output", default="model.keras",
                     help="where to save, ending in .keras (default model.keras)")
    fit.add_argument("--backup-dir", default=UNSET,
                     help="resume directory: rerun the same command after a crash to "
                     "continue (default: none)")
    fit.add_argument("--strategy", choices=list(STRATEGIES), default="default",
                     help="tf.distribute strategy: default (one device), mirrored (all local "
                     "GPUs), multi-worker (machines in TF_CONFIG), tpu (default: default)")
    fit.add_argument("--mixed-precision", choices=list(MIXED_PRECISION_POLICIES), default=None,
                     help="compute in 16-bit floats, keep float32 weights, logits and loss: "
                     "mixed_float16 on GPUs, mixed_bfloat16 on TPUs (default: float32)")


def _add_translate(commands):
    translate = commands.add_parser(
        "translate", help="translate sentences (arguments, or lines on stdin, streamed)",
        description="Translate TEXT arguments, or stdin line by line: each line's "
        "translation is written in input order as soon as it is ready (a line typed at a "
        "terminal is answered at once). Ctrl-C stops after the last complete line. A line "
        "that is not valid text in --encoding gets a warning and an empty output line.")
    add_model_option(translate)
    translate.add_argument("texts", nargs="*", metavar="TEXT",
                           help="sentences to translate (default: read lines from stdin)")
    translate.add_argument("--output", metavar="FILE", default=None,
                           help="write to FILE, which appears complete or not at all "
                           "(after Ctrl-C: the lines completed) (default: stdout)")
    translate.add_argument("--format", choices=FORMATS, default="text",
                           help="text: one line per input line (n-best: translation<TAB>score "
                           "pairs, best first, as Python's (text, score)); tsv: a header "
                           "line, then line<TAB>rank<TAB>translation<TAB>score rows; jsonl: "
                           "one JSON object per input line (default text)")
    translate.add_argument("--encoding", default="utf-8",
                           help="text encoding of stdin (default utf-8)")
    # 1024: translate sorts each chunk by length, and smaller chunks pad more
    # (benchmarks/cli_streaming.py: 256-line chunks pad ~15% more source tokens).
    translate.add_argument("--chunk-lines", type=positive_integer, default=1024, metavar="N",
                           help="at most this many stdin lines per batch; fewer when no more "
                           "input is waiting (default 1024)")
    add_verbosity_options(translate)
    add_decoding_options(translate)


def _add_evaluate(commands):
    evaluate = commands.add_parser(
        "evaluate", help="BLEU and chrF (sacrebleu) on a data set",
        description="Translate a data set's sources and score them against its targets. "
        "The result line names the data, split, filters, number of pairs and decoding.")
    add_model_option(evaluate)
    add_data_options(evaluate, split_help=(
        "which pairs: with --corpus, its split (default test); with --data, all (default) "
        "or the deterministic split training makes of the file (validation: the 20th, "
        "40th, ... pair; train: the rest; no test split)"))
    add_verbosity_options(evaluate)
    add_decoding_options(evaluate)


def _add_score(commands):
    score = commands.add_parser(
        "score", help="how probable each target is given its source (forced decoding)",
        description="Print, for each pair, the log-probability the model gives the target "
        "(end token included) and the length-normalised score beam search ranks by.")
    add_model_option(score)
    add_data_options(score, split_help="which pairs: as for evaluate (--corpus: test, "
                     "--data: all, by default)")
    score.add_argument("--format", choices=FORMATS, default="text",
                       help="text: log_prob<TAB>score per pair; tsv: a header line, then "
                       "reference, log_prob, score, source, target; jsonl: one JSON "
                       "object per pair, with token_log_probs (default text)")
    score.add_argument("--length-penalty", type=float, default=UNSET, metavar="X",
                       help="GNMT alpha of the normalised score (" + default_of(
                           "keras_s2s.scoring", "score", "length_penalty") + ")")
    add_verbosity_options(score, progress=False)


def _add_export(commands):
    export = commands.add_parser(
        "export", help="write a TF Serving SavedModel (next integer version), or a "
        "CTranslate2 model",
        description="Export a .keras model as saved_models/NAME/<version>/ for TF Serving, "
        "or (--format ctranslate2, Transformer models) as a CTranslate2 model directory.")
    add_model_option(export, keras_only=True)
    export.add_argument("--output", required=True,
                        help="model base path, a directory, e.g. saved_models/spa_eng; with "
                        "--format ctranslate2 the model directory to create (required: no "
                        "default)")
    export.add_argument("--format", choices=EXPORT_FORMATS, default="saved-model",
                        help="saved-model: a SavedModel version for TF Serving, decoding "
                        "settings included; ctranslate2: a CTranslate2 model (Transformer "
                        "only; CTranslate2 takes its decoding options when it translates: "
                        "KERAS_S2S_NOTES.md, written beside it, says which match ours) "
                        "(default saved-model)")
    export.add_argument("--quantization", choices=CTRANSLATE2_QUANTIZATIONS, default=UNSET,
                        help="CTranslate2 weight type, e.g. int8 (default float32; "
                        "--format ctranslate2 only)")
    add_verbosity_options(export, progress=False)
    # keras_s2s.export's serving_default is beam search unless told otherwise.
    add_decoding_options(export, methods=("beam", "greedy"), default_method="beam",
                         skip=("temperature", "top_k", "top_p", "seed", "jit_compile"))


def _add_check_export(commands):
    check = commands.add_parser(
        "check-export", help="check a SavedModel export before deploying it",
        description="Loads an export through TF Serving's C++ loader and TensorFlow's "
        "Python loader, compares them, lists signatures, ops and GPU kernels, replays "
        "the warm-up requests and times a batch. Exit code 1 if a check fails.")
    check.add_argument("path", help="a model base path (its highest version) or a version "
                       "directory")
    add_verbosity_options(check, progress=False)


def _add_average(commands):
    average = commands.add_parser(
        "average", help="average the weights of several checkpoints into one model",
        description="The mean of every weight over the given .keras files (same "
        "architecture and vocabularies, e.g. the last epochs of one run), saved as one "
        "model: usually better than any single one of them.")
    average.add_argument("models", nargs="+", metavar="MODEL.keras",
                         help="the checkpoints to average")
    average.add_argument("--output", required=True,
                         help="where to save, ending in .keras (required: no default)")
    add_verbosity_options(average, progress=False)

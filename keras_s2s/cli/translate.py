"""`keras-s2s translate`: arguments, or stdin streamed chunk by chunk.

Each chunk (the lines already waiting, at most --chunk-lines; see
`keras_s2s.cli.streaming`) goes through `keras_s2s.translate`, and its
output is written in input order and flushed before the next chunk is read,
so the first translations appear within a chunk's time, an interactive line
is answered at once, and Ctrl-C keeps every line already written.
"""

from __future__ import annotations

import codecs
import sys

from keras_s2s.cli import checks
from keras_s2s.cli.messages import INTERRUPTED, note, warn
from keras_s2s.cli.models import load_model, model_vocabularies
from keras_s2s.cli.output import TRANSLATION_TSV_HEADER, LineSink, format_translation
from keras_s2s.cli.quiet import import_tensorflow
from keras_s2s.cli.streaming import LineReader, Progress, decode_line


def run(args) -> int:
    model_path = checks.check_model_path(args.model)
    settings = checks.decoding_settings(args)
    if args.output is not None:
        checks.check_output_file(args.output, "--output")
    codecs.lookup(args.encoding)  # an unknown --encoding is a LookupError now, not mid-stream
    import_tensorflow(verbose=args.verbose)
    # Loaded once: a SavedModel base path stays on the version it had at the start.
    model = load_model(model_path)
    sink = LineSink(args.output)
    progress = Progress(enabled=not args.quiet and not args.texts and not sys.stdin.isatty())
    try:
        if args.format == "tsv":
            sink.write(TRANSLATION_TSV_HEADER, lines=0)
        _translate_all(args, model, settings, sink, progress)
    except KeyboardInterrupt:
        progress.finish()
        sink.publish()
        where = f" to {args.output}" if args.output else ""
        note("translate", f"interrupted: wrote {sink.lines:,} lines{where}, all complete; "
             f"input from line {sink.lines + 1:,} on was not translated.")
        return INTERRUPTED
    except BaseException:
        progress.finish()
        sink.discard()
        raise
    progress.finish()
    sink.publish()
    return 0


def _chunks(args):
    """`[(line number, bytes)]` chunks: the TEXT arguments as one, or stdin's."""
    if args.texts:
        yield [(number, text.encode("utf-8", "surrogateescape"))
               for number, text in enumerate(args.texts, start=1)]
        return
    if sys.stdin.isatty():
        note("translate", "one sentence per line; Ctrl-D ends, Ctrl-C stops.")
    yield from LineReader(sys.stdin.buffer).chunks(max_lines=args.chunk_lines)


def _translate_all(args, model, settings, sink, progress):
    import keras_s2s

    with_scores = args.format != "text" and settings.num_results == 1
    checked_language = False
    encoding = "utf-8" if args.texts else args.encoding
    for chunk in _chunks(args):
        texts, problems = {}, {}
        for number, raw in chunk:
            texts[number], problems[number] = decode_line(raw, encoding)
            if problems[number] is not None:
                warn("translate", f"line {number:,}: {problems[number]}; writing an empty "
                     "line for it.")
        valid = [number for number, _ in chunk if problems[number] is None]
        if not checked_language and valid:
            _warn_about_input_language(model, [texts[number] for number in valid])
            checked_language = True
        results = keras_s2s.translate([texts[number] for number in valid], model,
                                      decoding=settings, with_scores=with_scores) if valid else []
        by_line = dict(zip(valid, results))
        sink.write("".join(
            format_translation(number, texts[number], _hypotheses(by_line.get(number)),
                               args.format, problem=problems[number])
            for number, _ in chunk), lines=len(chunk))
        progress.update(sink.lines)


def _hypotheses(result) -> list:
    """`[(translation, score or None), ...]` from what `translate` returned."""
    if result is None:
        return []
    if isinstance(result, str):
        return [(result, None)]
    if isinstance(result, tuple):
        return [result]
    return list(result)


def _warn_about_input_language(model, texts):
    """A warning when the input looks like the model's target language."""
    from keras_s2s.data.sanity import input_language_warning

    vocabularies = model_vocabularies(model)
    if vocabularies is not None:
        message = input_language_warning(texts[:500], *vocabularies)
        if message is not None:
            warn("translate", message)


"""`keras-s2s export` (a TF Serving SavedModel version, or a CTranslate2
model) and `keras-s2s check-export` (is that version servable?)."""

from __future__ import annotations

import importlib.util
import pathlib
import sys

from keras_s2s.cli import checks
from keras_s2s.cli.messages import CommandLineError, flag
from keras_s2s.cli.models import load_model
from keras_s2s.cli.quiet import import_tensorflow
from keras_s2s.decoding.settings import field_help


def run_export(args) -> int:
    model_path = checks.check_model_path(args.model, keras_only=True)
    if args.format == "ctranslate2":
        return _export_ctranslate2(args, model_path)
    if hasattr(args, "quantization"):
        raise CommandLineError(f"--quantization {args.quantization} applies to --format "
                               "ctranslate2 only (a SavedModel keeps the model's weights as "
                               "they are). Leave it out, or add --format ctranslate2.")
    checks.check_base_path(args.output, "--output")
    # keras_s2s.export's serving_default is beam search unless --method says otherwise.
    settings = checks.decoding_settings(args, default_method="beam")
    import_tensorflow(verbose=args.verbose)
    from keras_s2s.saved_model.writer import export

    print(f"Wrote {export(str(model_path), args.output, decoding=settings)}")
    return 0


def _export_ctranslate2(args, model_path) -> int:
    """`--format ctranslate2`: `keras_s2s.ctranslate2_export.export_ctranslate2`."""
    given = [name for name in field_help() if hasattr(args, name)]
    if given:
        raise CommandLineError(
            f"{flag(given[0])} {getattr(args, given[0])} has no effect with --format "
            "ctranslate2: CTranslate2 takes its decoding options when it translates "
            "(KERAS_S2S_NOTES.md, written beside the model, says which match ours). "
            "Leave it out.")
    output = pathlib.Path(args.output)
    if output.exists():
        raise CommandLineError(f"--output {output} exists; give a directory to create (a "
                               "CTranslate2 model is written whole, not as versions).")
    if importlib.util.find_spec("ctranslate2") is None:
        raise CommandLineError("--format ctranslate2 needs the ctranslate2 package: pip "
                               "install ctranslate2 (or this project's bench extra).")
    import_tensorflow(verbose=args.verbose)
    from keras_s2s.ctranslate2_export import NOTES_FILE, export_ctranslate2

    quantization = getattr(args, "quantization", None)
    path = export_ctranslate2(load_model(model_path), output, quantization=quantization)
    print(f"Wrote {path} (CTranslate2, {quantization or 'float32'} weights; how to decode "
          f"as keras_s2s does: {path / NOTES_FILE})")
    return 0


def run_check_export(args) -> int:
    checks.check_export_path(args.path)
    import_tensorflow(verbose=args.verbose)
    from keras_s2s.saved_model.check import check_export

    report = check_export(args.path)
    print(report)
    if not report.ok:
        print(f"keras-s2s check-export: {report.summary()}", file=sys.stderr)
        return 1
    print(report.summary())
    return 0

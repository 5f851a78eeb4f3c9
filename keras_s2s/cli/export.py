"""`keras-s2s export` (a TF Serving SavedModel version) and `keras-s2s
check-export` (is that version servable?)."""

from __future__ import annotations

import sys

from keras_s2s.cli import checks
from keras_s2s.cli.quiet import import_tensorflow


def run_export(args) -> int:
    model_path = checks.check_model_path(args.model, keras_only=True)
    checks.check_base_path(args.output, "--output")
    # keras_s2s.export's serving_default is beam search unless --method says otherwise.
    settings = checks.decoding_settings(args, default_method="beam")
    import_tensorflow(verbose=args.verbose)
    from keras_s2s.saved_model.writer import export

    print(f"Wrote {export(str(model_path), args.output, decoding=settings)}")
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

"""`keras-s2s average`: the mean of several checkpoints' weights, as one model.

Averaging the last few epochs' weights usually scores better than any one of
them (OpenNMT-tf, Sockeye); see `keras_s2s.averaging.average_checkpoints`.
"""

from __future__ import annotations

import os

from keras_s2s.cli import checks
from keras_s2s.cli.quiet import import_tensorflow


def run(args) -> int:
    paths = [checks.check_model_path(path, keras_only=True) for path in args.models]
    checks.check_output_file(args.output, "--output", ending=".keras")
    import_tensorflow(verbose=args.verbose)
    from keras_s2s.averaging import average_checkpoints
    from keras_s2s.checkpointing import save_model_atomically

    model = average_checkpoints([str(path) for path in paths])
    save_model_atomically(model, args.output)
    print(f"Averaged {len(paths)} checkpoints into {args.output} "
          f"({os.path.getsize(args.output) / 1e6:.1f} MB).")
    return 0

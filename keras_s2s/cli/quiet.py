"""TensorFlow, quietly: no C++ log lines or library warnings unless --verbose.

Measured with TensorFlow 2.21 on a CPU machine: `TF_CPP_MIN_LOG_LEVEL=3`
silences the `E0000 ... cuda_platform.cc] failed call to cuInit` line of the
first op, but not the lines written while TensorFlow's libraries load
(`WARNING: All log messages before absl::InitializeLog() is called are written
to STDERR`, `I0000 ... port.cc] oneDNN custom operations are on`,
`I0000 ... cudart_stub.cc] Could not find cuda drivers`, written twice: by
tensorflow and by tensorflow_text): absl writes those before any level is set.
So the imports run with file descriptor 2 pointed at a temporary file, which
`--verbose` replays. Python-side warnings (absl, tf.get_logger, Keras'
`warnings.warn`) are set to errors only.

Example:
    >>> configure_logging(verbose=False)   # before anything imports TensorFlow
    >>> import_tensorflow(verbose=False)
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import warnings

from keras_s2s.cli.interrupts import interrupts_deferred

# Modules whose warnings are noise for someone running the command.
_NOISY_MODULES = r"(keras|tensorflow|tensorflow_text|absl|google\.protobuf|h5py)(\.|$)"


def configure_logging(*, verbose: bool):
    """Sets the environment TensorFlow reads when it loads (call before that)."""
    if verbose:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "0")
        return
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"  # errors too: the command reports its own
    warnings.filterwarnings("ignore", module=_NOISY_MODULES)


@contextlib.contextmanager
def _stderr_descriptor_captured(*, replay: bool):
    """Points file descriptor 2 at a temporary file, then back; with `replay`,
    writes what was captured to stderr afterwards."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        except BaseException:
            replay = True  # whatever the libraries said may explain the failure
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            if replay:
                captured.seek(0)
                sys.stderr.write(captured.read().decode("utf-8", "replace"))
                sys.stderr.flush()


def import_tensorflow(*, verbose: bool):
    """Imports TensorFlow, tensorflow_text and Keras without their load-time
    log lines (shown with `verbose`), and sets their Python loggers."""
    if "tensorflow" not in sys.modules:
        # Ctrl-C inside TensorFlow's loading would surface as a RuntimeError.
        with interrupts_deferred(), _stderr_descriptor_captured(replay=verbose):
            import keras  # noqa: F401
            import tensorflow  # noqa: F401
            import tensorflow_text  # noqa: F401
    if verbose:
        return
    import absl.logging
    import tensorflow as tf

    absl.logging.set_verbosity(absl.logging.ERROR)
    tf.get_logger().setLevel("ERROR")

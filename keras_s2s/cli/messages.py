"""What the command says on stderr: one line per error, warning or note.

Every error the command can run into (a bad option, a missing file, a data
file it cannot read, a value the library rejects) is one line,
`keras-s2s COMMAND: error: WHAT (WHERE)`, and exit code 2; no traceback.
A traceback means a bug in keras_s2s, worth reporting.

Library messages give Python advice (`encoding='latin-1'`); here they are
reworded for the command line (`--encoding latin-1`) where they say so.
"""

from __future__ import annotations

import re
import sys

from keras_s2s.data.errors import DataFormatError
from keras_s2s.decoding.settings import field_names
from keras_s2s.training_settings import field_help as training_field_help

# Exit codes: 2 for every usage or data error (as argparse does), 130 after
# Ctrl-C and 141 for a closed stdout (a shell's codes for SIGINT and SIGPIPE).
USAGE_ERROR = 2
INTERRUPTED = 130
BROKEN_PIPE = 141

# What a command may hit because of its input, rather than because of a bug.
# (DataFormatError and UnicodeDecodeError are ValueErrors; FileExistsError and
# FileNotFoundError are OSErrors.)
EXPECTED_ERRORS = (ValueError, TypeError, OSError, LookupError)


class CommandLineError(Exception):
    """A problem found by the command itself, worded for the command line.

    Example:
        >>> raise CommandLineError("--epochs must be at least 1, got 0.")
    """


def flag(name: str) -> str:
    """The option of a Python argument name: `beam_width` -> `--beam-width`."""
    return "--" + name.replace("_", "-")


# A decoding or training setting named as a Python argument ("beam_width=8",
# "label_smoothing must be ...") becomes the option that sets it.
_SETTING_NAMES = (*field_names(), *training_field_help())
_DECODING_ASSIGNMENT = re.compile(rf"\b({'|'.join(_SETTING_NAMES)})=('[^']*'|[^\s,:;)]+)")
_SETTING_MUST = re.compile(rf"\b({'|'.join(_SETTING_NAMES)})(?= (must|needs|has no|>=) )")
_WORDING = (("Leave it out, or choose that method.", "Leave it out, or give that --method."),
            # None (the library's "not set") cannot be typed on the command line.
            (" or None, got", ", got"))


def for_command_line(error: BaseException) -> str:
    """`error`'s message, on one line, in command-line terms."""
    if isinstance(error, DataFormatError):
        message = error.command_line_message
    elif isinstance(error, (KeyError, LookupError)) and error.args:
        message = str(error.args[0])
    else:
        message = str(error) or type(error).__name__
    if isinstance(error, (FileNotFoundError, PermissionError)) and error.filename and \
            str(error.filename) not in message:
        message = f"{message}: {error.filename}"
    # A decoding option named as a Python argument becomes the option that sets it.
    message = _DECODING_ASSIGNMENT.sub(
        lambda match: f"{flag(match[1])} {match[2].strip(chr(39))}", message)
    message = _SETTING_MUST.sub(lambda match: flag(match[1]), message)
    for python, command_line in _WORDING:
        message = message.replace(python, command_line)
    return " ".join(message.split())  # one line, whatever the library wrote


def error(command: str, message: str) -> int:
    """Prints `keras-s2s COMMAND: error: MESSAGE`; returns the exit code (2)."""
    print(f"keras-s2s {command}: error: {' '.join(message.split())}", file=sys.stderr,
          flush=True)
    return USAGE_ERROR


def warn(command: str, message: str):
    """Prints `keras-s2s COMMAND: warning: MESSAGE` on stderr."""
    print(f"keras-s2s {command}: warning: {' '.join(message.split())}", file=sys.stderr,
          flush=True)


def note(command: str, message: str):
    """Prints `keras-s2s COMMAND: MESSAGE` on stderr (what was done, not a problem)."""
    print(f"keras-s2s {command}: {message}", file=sys.stderr, flush=True)

"""The `keras-s2s` command: train, translate, evaluate, score, export, check-export.

    $ keras-s2s translate < sentences.es > sentences.en
    $ keras-s2s evaluate --corpus bible-spa-eng --max-words 20

One module per command (`train.py`, `translate.py`, ...), each with a
`run(args)` that checks its arguments and paths in plain Python first and
imports TensorFlow only once they are fine; the parser is `parser.py`, the
one-line error policy `messages.py`.
"""

from __future__ import annotations

import importlib
import os
import signal
import sys

from keras_s2s.cli import messages
from keras_s2s.cli.parser import MIXED_PRECISION_POLICIES, STRATEGIES, build_parser
from keras_s2s.cli.quiet import configure_logging
from keras_s2s.models.architectures import ARCHITECTURES

# command -> (module, function) that runs it.
COMMANDS = {
    "train": ("keras_s2s.cli.train", "run"),
    "translate": ("keras_s2s.cli.translate", "run"),
    "evaluate": ("keras_s2s.cli.evaluate", "run"),
    "score": ("keras_s2s.cli.score", "run"),
    "export": ("keras_s2s.cli.export", "run_export"),
    "check-export": ("keras_s2s.cli.export", "run_check_export"),
    "average": ("keras_s2s.cli.average", "run"),
}

__all__ = ["ARCHITECTURES", "COMMANDS", "MIXED_PRECISION_POLICIES", "STRATEGIES", "main"]


def main(argv=None) -> int:
    """Runs one command; returns its exit code (0, 1 for a failed check-export,
    2 for an error, 130 after Ctrl-C, 141 when stdout's reader went away).

    Example:
        >>> main(["translate", "--model", "runs/demo.keras", "¿Dónde está?"])
        Where is it?
        0
    """
    args = build_parser().parse_args(argv)
    configure_logging(verbose=args.verbose)
    # Ctrl-C is a KeyboardInterrupt even when started with SIGINT ignored (`cmd &`
    # in a script): the command then stops cleanly instead of not at all.
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    module, function = COMMANDS[args.command]
    try:
        return getattr(importlib.import_module(module), function)(args) or 0
    except messages.CommandLineError as error:
        return messages.error(args.command, str(error))
    except BrokenPipeError:
        # The reader (`| head`) stopped reading: nothing more to say, and the
        # flush at exit must not complain about it either. The exit code is a
        # shell's for a process killed by SIGPIPE: the work did not finish.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return messages.BROKEN_PIPE
    except messages.EXPECTED_ERRORS as error:
        if args.verbose:
            raise
        return messages.error(args.command, messages.for_command_line(error))
    except KeyboardInterrupt:
        print(f"keras-s2s {args.command}: interrupted.", file=sys.stderr)
        return messages.INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())

"""Ctrl-C at a moment the command chooses.

A KeyboardInterrupt may arrive anywhere: between two writes of one output
line, or inside TensorFlow's C++ code (while it loads, or loads a model),
which turns it into a RuntimeError. In the blocks that must not be cut,
`interrupts_deferred` holds it back and raises it at the block's end.

Example:
    >>> with interrupts_deferred():
    ...     stream.write(whole_chunk)
    ...     stream.flush()
"""

from __future__ import annotations

import contextlib
import signal
import threading


@contextlib.contextmanager
def interrupts_deferred():
    """Ctrl-C during the block takes effect at its end, so a write is never cut
    in half (outside the main thread, where signals cannot be caught: as is)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received = []
    previous = signal.signal(signal.SIGINT, lambda number, frame: received.append(number))
    try:
        yield
    finally:
        # (None: a handler set outside Python; Python's own is the nearest thing.)
        signal.signal(signal.SIGINT, previous if previous is not None
                      else signal.default_int_handler)
    if received:
        raise KeyboardInterrupt

"""Input lines in chunks, as soon as they arrive: what lets `translate` stream.

A reader thread reads stdin line by line into a queue; the main thread takes
a chunk as everything already waiting there, up to a limit. A file or a pipe
that writes faster than the model translates gives full chunks (the reader
fills the queue while the model works); a line typed at a terminal is alone
in the queue, so it is translated at once instead of waiting for more input.

Example:
    >>> reader = LineReader(sys.stdin.buffer)
    >>> for chunk in reader.chunks(max_lines=256):
    ...     print([number for number, raw in chunk])   # 1-based line numbers
"""

from __future__ import annotations

import os
import queue
import sys
import threading
import time

_END = None  # put on the queue after the last line


class LineReader:
    """Reads a binary stream's lines on a daemon thread.

    Args:
        stream: a binary file object (`sys.stdin.buffer`).
        buffered_lines: at most this many lines wait in memory, so a huge
            input is read as fast as it is translated, not all at once.
    """

    def __init__(self, stream, *, buffered_lines: int = 4096):
        self._lines: queue.Queue = queue.Queue(maxsize=buffered_lines)
        self._ended = False
        self.error: OSError | None = None
        thread = threading.Thread(target=self._read, args=(stream,), daemon=True,
                                  name="keras-s2s stdin reader")
        thread.start()

    def _read(self, stream):
        try:
            for number, raw in enumerate(_raw_lines(stream), start=1):
                self._lines.put((number, raw))
        except (OSError, ValueError) as error:  # a closed or unreadable stdin
            self.error = error if isinstance(error, OSError) else OSError(str(error))
        finally:
            self._lines.put(_END)

    def chunks(self, *, max_lines: int):
        """Yields lists of `(line number, bytes without the line ending)`:
        waits for one line, then takes those already waiting, up to `max_lines`."""
        while not self._ended:
            first = self._lines.get()  # blocks until input (Ctrl-C still interrupts)
            if first is _END:
                break
            chunk = [first]
            while len(chunk) < max_lines:
                try:
                    item = self._lines.get_nowait()
                except queue.Empty:
                    break
                if item is _END:
                    self._ended = True
                    break
                chunk.append(item)
            yield [(number, raw.rstrip(b"\n").removesuffix(b"\r")) for number, raw in chunk]
        if self.error is not None:
            raise self.error


def _raw_lines(stream, block_size: int = 1 << 16):
    """The stream's lines, ending included, from its file descriptor when it has
    one: `os.read` holds no lock of the stream object, so a thread blocked in it
    does not stop the interpreter from exiting (a thread blocked in
    `sys.stdin.buffer.readline()` makes Python abort at exit: "could not
    acquire lock for <_io.BufferedReader name='<stdin>'> at interpreter
    shutdown")."""
    try:
        descriptor = stream.fileno()
    except (OSError, AttributeError, ValueError):  # an in-memory stream (tests)
        yield from iter(stream.readline, b"")
        return
    pending = b""
    while block := os.read(descriptor, block_size):
        lines = (pending + block).split(b"\n")
        pending = lines.pop()
        yield from (line + b"\n" for line in lines)
    if pending:
        yield pending


def decode_line(raw: bytes, encoding: str) -> tuple[str | None, str | None]:
    """`(text, None)`, or `(None, what is wrong)` for bytes invalid in `encoding`."""
    try:
        return raw.decode(encoding), None
    except UnicodeDecodeError as error:
        return None, (f"not valid {encoding} (byte {error.start + 1}: "
                      f"{raw[error.start:error.end]!r})")


class Progress:
    """`keras-s2s translate: 1,200 lines, 85 lines/s` on one stderr line,
    rewritten after each chunk; only when stderr is a terminal (and not
    `quiet`), so logs and pipes never see it, and never on stdout.

    Args:
        stream: where to draw it (stderr).
        enabled: draw at all.
    """

    def __init__(self, stream=None, *, enabled: bool = True):
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled and self.stream.isatty()
        self.started = time.monotonic()
        self.drawn = False

    def update(self, lines: int):
        if not self.enabled:
            return
        rate = lines / max(time.monotonic() - self.started, 1e-9)
        self.stream.write(f"\rkeras-s2s translate: {lines:,} lines, {rate:,.0f} lines/s ")
        self.stream.flush()
        self.drawn = True

    def finish(self):
        """Ends the progress line, so what follows starts on a line of its own."""
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()
            self.drawn = False

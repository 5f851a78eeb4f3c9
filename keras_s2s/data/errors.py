"""`DataFormatError`: a data file the loaders cannot use as it is."""

from __future__ import annotations


class DataFormatError(ValueError):
    """A data file (or the way it was asked to be read) does not fit the loader.

    The message names the file and, when one line is at fault, its 1-based
    line number, and says what to change. It subclasses `ValueError` so code
    that already catches bad values (like the `keras-s2s` command) reports it.

    Advice depends on who reads it: `str(error)` tells a Python caller which
    argument to pass (`encoding='latin-1'`), `error.command_line_message`
    tells a `keras-s2s` user which option to give (`--encoding latin-1`).

    Args:
        message: the problem and the Python advice.
        command_line_message: the same problem with command-line advice
            (default: `message`, for problems whose fix is not an argument).

    Example:
        >>> try:
        ...     load_tsv("pairs.tsv")
        ... except DataFormatError as error:
        ...     print(error)
        pairs.tsv:17: line has 1 column, but source_column=0 and target_column=1 need ...
    """

    def __init__(self, message: str, *, command_line_message: str | None = None):
        super().__init__(message)
        self.command_line_message = command_line_message or message

"""`DataFormatError`: a data file the loaders cannot use as it is."""


class DataFormatError(ValueError):
    """A data file (or the way it was asked to be read) does not fit the loader.

    The message names the file and, when one line is at fault, its 1-based
    line number, and says what to change. It subclasses `ValueError` so code
    that already catches bad values (like the `keras-s2s` command) reports it.

    Example:
        >>> try:
        ...     load_tsv("pairs.tsv")
        ... except DataFormatError as error:
        ...     print(error)
        pairs.tsv:17: line has 1 column, but source_column=0 and target_column=1 need ...
    """

"""Argument types, flag spelling and the parser shared by the ``nnfs-ref`` subcommands.

Every usage error is one line on stderr, ``nnfs-ref SUBCOMMAND: error: ...``,
naming the option, the value and what was expected, and exit status 2; files to
be written are checked before any work starts.
"""

import argparse
import math
import os
import sys


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose usage errors are one line (and exit 2); its
    subcommands' parsers are of this class too.

    ``arguments``: a function that adds the parser's arguments when it is first used
    (to parse, or for its help) instead of when it is built, for a subcommand whose
    arguments need heavy imports (``check``'s need NumPy and the reference package,
    0.15 s that every other command would pay at its start).
    """

    def __init__(self, *args, arguments=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._pending = arguments

    def _add_pending(self):
        if self._pending is not None:
            add, self._pending = self._pending, None
            add(self)

    def parse_known_args(self, args=None, namespace=None):
        self._add_pending()
        return super().parse_known_args(args, namespace)

    def format_usage(self):
        self._add_pending()
        return super().format_usage()

    def format_help(self):
        self._add_pending()
        return super().format_help()

    def error(self, message):
        print(f"{self.prog}: error: {message} (see {self.prog} --help)", file=sys.stderr)
        sys.exit(2)


def flag(name):
    """A setting's command-line flag: ``beta_1`` -> ``--beta-1``."""
    return "--" + name.replace("_", "-")


def integer(text):
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None


def number(text):
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def _bounded(parse, ok, expected):
    """An argument type: ``parse(text)``, refused unless ``ok(value)``, with the message
    "expected ``expected``, got ``text``"."""
    def convert(text):
        value = parse(text)
        if not ok(value):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text}")
        return value
    return convert


positive_int = _bounded(integer, lambda v: v >= 1, "a positive integer")
nonnegative_int = _bounded(integer, lambda v: v >= 0, "a non-negative integer")
positive_float = _bounded(number, lambda v: v > 0 and math.isfinite(v),
                          "a positive finite number")
nonnegative_float = _bounded(number, lambda v: v >= 0 and math.isfinite(v),
                             "a finite non-negative number")


def _writable(path):
    """``path``, once its folder is known to exist and be writable."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise argparse.ArgumentTypeError(f"{path}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise argparse.ArgumentTypeError(f"{path}: the folder {folder} is not writable")
    if os.path.isdir(path):
        raise argparse.ArgumentTypeError(f"{path} is a folder; give a file name")
    return path


def output_file(text):
    """A file to write (``--json``): its folder must exist and be writable."""
    return _writable(text)


def npz_file(text):
    """A ``.npz`` file to write (``--save``), named as NumPy will write it: ``model`` is
    ``model.npz``."""
    return _writable(text if text.endswith(".npz") else text + ".npz")


def image_file(text):
    """An image to write (``--plot``) in a format matplotlib writes, named as it will be
    written: ``chart`` is ``chart.png``."""
    root, suffix = os.path.splitext(text)
    if not suffix:
        return _writable(text + ".png")
    from matplotlib.figure import Figure

    formats = Figure().canvas.get_supported_filetypes()
    if suffix[1:].lower() not in formats:
        raise argparse.ArgumentTypeError(
            f"{text}: matplotlib cannot write {suffix!r} files (it writes "
            f"{', '.join('.' + f for f in sorted(formats))})")
    return _writable(text)

"""Assertions shared by the tests."""

import numpy as np
from hypothesis import note

from nnfs_ref.check.compare import compare
from nnfs_ref.check.report import format_table


def assert_agrees(name, actual, expected, **tolerances):
    """``actual`` equals ``expected`` entry by entry, with exactly the same shape.

    ``tolerances``: ``rtol``, ``scale_tol``, ``scale`` of :func:`nnfs_ref.check.compare.compare`.
    """
    check = compare(name, actual, expected, **tolerances)
    assert check.ok, "\n" + format_table([dict(cls="", **check.as_dict())])


def assert_report(report):
    """Every row of a report agrees; the table is noted for Hypothesis."""
    note(str(report))
    assert report.ok, "\n" + str(report)


def assert_array(x, shape, dtype):
    """``x`` is an ndarray of exactly ``shape`` and ``dtype`` (no broadcasting leeway)."""
    assert isinstance(x, np.ndarray), f"expected an ndarray, got {type(x).__name__}"
    assert x.shape == tuple(shape), f"expected shape {tuple(shape)}, got {x.shape}"
    assert x.dtype == np.dtype(dtype), f"expected dtype {np.dtype(dtype)}, got {x.dtype}"


class Frozen:
    """Copies of arrays given to a method, to assert that the method left them alone."""

    def __init__(self, *arrays):
        self.arrays = arrays
        self.copies = [np.array(a, copy=True) for a in arrays]

    def assert_unchanged(self):
        for a, c in zip(self.arrays, self.copies):
            np.testing.assert_array_equal(a, c, err_msg="a method changed an array it was given")


def planted(module, old, new):
    """``module`` (the project's own code in a style users write) as a fresh module with
    the one line ``old`` replaced by ``new``; its catalogue of bugs (from ``BUGS``) left out."""
    import inspect
    import types

    source = inspect.getsource(module)
    source = source.split("\nBUGS = [")[0]
    assert source.count(old) == 1, f"{old!r} must occur exactly once"
    mutant = types.ModuleType(module.__name__ + "_mutant")
    exec(compile(source.replace(old, new), mutant.__name__, "exec"), mutant.__dict__)
    return mutant

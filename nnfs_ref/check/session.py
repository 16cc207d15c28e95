"""One check of one subject, from its first call to its report.

A :class:`Session` owns what every front end (a layer, a loss, a network, a
function pair) needs around its own objectives: the report's notes, the
replay of the subject's randomness, the float64 lift of ``nnfs.init()``'s
patches, the user's arrays lifted to float64 copies and put back after, the
``<name> unchanged`` rows, and the report, whatever the user's code raised.
"""

import warnings as python_warnings

import numpy as np

from nnfs_ref.check import contract
from nnfs_ref.check.compare import unchanged_checks
from nnfs_ref.check.contract import UserCodeError
from nnfs_ref.check.report import CheckReport, Finding

FD_ORACLE = "central finite differences (float64)"


class CannotCheck(Exception):
    """The object is fine to call but its gradients cannot be judged (one-line reason)."""


def streams(seed):
    """``(dvalues_rng, directions_rng)`` for ``seed``: streams of their own, so that
    ``dvalues`` never equals inputs a user drew with ``default_rng(seed)``."""
    return (np.random.default_rng([seed, 0x6E6E6673, 0]),
            np.random.default_rng([seed, 0x6E6E6673, 1]))


def as_float64(value, name):
    """A float64 copy of numeric array-like input, or a TypeError/ValueError naming it."""
    try:
        array = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a numeric array, got {type(value).__name__}") from None
    if array.ndim == 0 or array.size == 0:
        raise ValueError(f"{name} must be a non-empty array, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite, got {int((~np.isfinite(array)).sum())} "
                         "nan/inf entries")
    return array


def mean_loss(returned, role="forward"):
    """The mean of the sample losses a loss's ``forward`` returned, as a float."""
    try:
        return float(np.mean(np.asarray(returned, dtype=np.float64)))
    except (TypeError, ValueError):
        raise UserCodeError(f"your {role} returned a {type(returned).__name__}, not sample "
                            "losses") from None


def same(a, b):
    """Exactly equal arrays of one shape (NaN equal to NaN)."""
    return a.shape == b.shape and np.array_equal(a, b, equal_nan=True)


class Restored:
    """Float64 copies of an object's arrays during a check; the originals put back after."""

    def __init__(self, obj, slots):
        self.obj, self.slots = obj, slots
        self.originals = {slot: slot.get(obj) for slot in slots}
        self.float32 = [str(s) for s in slots if self.originals[s].dtype != np.float64]
        self.copies = {slot: np.array(self.originals[slot], dtype=np.float64) for slot in slots}
        for slot, copy in self.copies.items():
            slot.set(obj, copy)

    def kept(self, slot):
        """Whether the object still holds the copy at ``slot`` (a forward that replaces an
        array makes it a cache, not a parameter)."""
        return slot.get(self.obj) is self.copies[slot]

    def put_back(self):
        for slot, value in self.originals.items():
            slot.set(self.obj, value)


class Session:
    """The notes, randomness, arrays and ``unchanged`` rows of one check, and its report.

    ``objects``: the user's objects whose generators a forward may draw from (NumPy's
    global random state is always replayed). ``notes``: the caller's own first notes
    (how the inputs were made).
    """

    def __init__(self, title, oracle, settings, objects=(), notes=()):
        self.title, self.oracle, self.settings = title, oracle, settings
        self.notes = list(notes)
        self.first = len(self.notes)  # where the notes on how the subject is called go
        self.warnings = []
        self.objects = list(objects)
        self.randomness = None
        self.restored = []
        self.given = {}
        #: Per row, the object it belongs to (a network's layers), when a front end sets it.
        self.owners = None

    def note_first(self, text):
        """A note on how the subject is called: after the caller's own, before the others."""
        self.notes.insert(self.first, text)

    def lift(self, obj, slots):
        """Float64 copies of ``obj``'s arrays at ``slots`` for the check (put back after)."""
        restored = Restored(obj, slots)
        self.restored.append(restored)
        if restored.float32:
            self.notes.append(f"float32 arrays {', '.join(restored.float32)} checked as "
                              "float64 copies")
        return restored

    def hand(self, to="code", **arrays):
        """Copies of ``arrays``, kept before they are handed to the user's method ``to``:
        each gets a row ``<name> unchanged`` (a method must not write into its arguments)."""
        for name, array in arrays.items():
            self.given[name] = (array, np.array(array, copy=True), to)
        return [self.given[name][1] for name in arrays]

    def pin(self, forward, refusal, first=None):
        """Run ``forward(replay)`` twice; a forward that differs is random, and must be
        pinned by replaying the randomness, or CannotCheck (``refusal``). ``first``: the
        output of a replayed forward the caller already ran. Returns the output and whether
        the forward is random."""
        first = forward(True) if first is None else first
        if same(first, forward(False)):
            return first, False
        if not same(first, forward(True)):
            raise CannotCheck(refusal)
        return first, True

    def run(self, body):
        """``body()``'s ``(checks, findings)`` as the report; a report of verdict "error"
        (the user's code raised or lacks a method) or "cannot check" otherwise."""
        try:
            self.randomness = contract.Randomness(self.objects)
            try:
                with contract.float64_numpy() as lifted:
                    if lifted:
                        self.notes.append(precision_note(lifted))
                    checks, findings = body()
            finally:
                self.randomness.restore()
                for restored in self.restored:
                    restored.put_back()
        except UserCodeError as exc:
            return CheckReport.failed(self.title, self.oracle, self.notes, "error", str(exc))
        except CannotCheck as exc:
            return CheckReport.failed(self.title, self.oracle, self.notes, "cannot check",
                                      str(exc))
        untouched = unchanged_checks({name: copy for name, (_, copy, _) in self.given.items()},
                                     {name: array for name, (array, _, _) in
                                      self.given.items()})
        findings = dict(findings)
        for row, (name, (array, copy, to)) in zip(untouched, self.given.items()):
            if not row.ok:
                changed = int(np.sum(np.asarray(array) != copy)) if np.shape(array) == \
                    copy.shape else copy.size
                findings[row.name] = Finding(message=(
                    f"your {to} wrote into {name}: {changed} of {copy.size} entries changed "
                    "(a method must not change its arguments)"))
        culprit = None
        if self.owners is not None:  # the first failing owner, going back from the loss
            culprit = next((o for o, c in zip(self.owners, checks) if not c.ok), None)
        return CheckReport(self.title, checks + untouched, self.oracle, self.notes,
                           self.warnings, findings, owners=self.owners, culprit=culprit)

    def warn(self, text):
        """A warning in the report, and a Python ``UserWarning`` naming the subject, shown
        at the line that called the front end (warn <- front end's body <- its lambda <-
        :meth:`run` <- the front end <- the caller)."""
        self.warnings.append(text)
        python_warnings.warn(f"{self.title}: {text}", UserWarning, stacklevel=6)


def lower_precision(dtype, what, notes):
    """A forward that returns a float dtype below float64 is differenced at its precision
    (the noise measured tells the oracle), noted; a non-float result cannot be checked."""
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise CannotCheck(f"{what} returns {dtype} for float64 inputs: a piecewise-constant "
                          "result has no gradient to difference")
    if dtype != np.float64:
        notes.append(f"{what} returns {dtype} for float64 inputs (a cast inside?): "
                     f"differenced at {dtype}'s precision")


def precision_note(lifted):
    """The report's note when ``nnfs.init()``'s patches were lifted (names of the functions)."""
    return (f"nnfs.init()'s float32 patches of {', '.join(lifted)} lifted for the check "
            "(float64 throughout)")

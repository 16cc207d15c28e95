"""What a check found, in words a person can act on.

A :class:`CheckReport` is the table of compared arrays (one
:class:`nnfs_ref.check.compare.GradientCheck` per row), the notes on how the object was
called (``forward(inputs, training=True)``, randomness pinned, penalties
added), and a verdict line: ``OK``, ``FAIL`` with the worst entry of each
failing row (yours against the expected value, their ratio and the pattern
they follow), ``ERROR`` when the user's code raised, or ``CANNOT CHECK``.
"""

import dataclasses
import html
import sys

import numpy as np

from nnfs_ref.table import format_rows


@dataclasses.dataclass
class Report:
    """The checks of one object (a layer, a loss, a network), printable as a table."""

    title: str
    checks: list

    @property
    def ok(self):
        return all(c.ok for c in self.checks)

    @property
    def failures(self):
        return [c for c in self.checks if not c.ok]

    def rows(self):
        return [dict(cls=self.title, **c.as_dict()) for c in self.checks]

    def __str__(self):
        return format_table(self.rows())


def _shape_text(row):
    shape, expected = tuple(row["shape"]), tuple(row["expected_shape"])
    return str(shape) if shape == expected else f"{shape} != expected {expected}"


#: The columns of a report's table.
TABLE_HEADER = ("class", "gradient", "shape", "max abs err", "max rel err", "err/tol",
                "worst index", "result")


def table_cells(row):
    """The cells of one row of :meth:`Report.rows`, as text, in :data:`TABLE_HEADER`'s order."""
    return (row["cls"], row["name"], _shape_text(row), f"{row['max_abs']:.3e}",
            f"{row['max_rel']:.3e}", f"{row['ratio']:.2g}",
            "-" if row["worst_index"] is None else str(tuple(row["worst_index"])),
            "pass" if row["ok"] else "FAIL")


def format_table(rows):
    """Format rows of :meth:`Report.rows` as a fixed-width text table."""
    return format_rows(TABLE_HEADER, [table_cells(r) for r in rows])


def assert_ok(report):
    """``report``, or ``AssertionError`` with its verdict line and text unless it is OK."""
    if not report.ok:
        raise AssertionError(f"{report.summary()}\n{report}")
    return report


#: Verdicts and the exit code ``nnfs-ref check`` gives each.
EXIT_CODES = {"ok": 0, "fail": 1, "error": 2, "cannot check": 2}


def _close(a, b, rtol=1e-4):
    return abs(a - b) <= rtol * max(abs(a), abs(b))


@dataclasses.dataclass(frozen=True)
class Hints:
    """What a diagnosis may name: the batch size, the array differentiated (``about``:
    ``"inputs"``, ``"biases"``) and the numbers the object holds or was given
    (``{"temperature": 2.0}``), so that a factor is tied to what the code can see."""

    batch: object = None
    about: str = "inputs"
    numbers: tuple = ()
    #: Whether ``about`` is a parameter (else an input, which a clip can make flat).
    parameter: bool = False


def _factor_hint(c, hints):
    batch = hints.batch
    if batch and batch > 1 and _close(c, batch):
        return f" (the batch size {batch}: a mean's 1/N missing?)"
    if batch and batch > 1 and _close(c, 1 / batch):
        return f" (1/{batch}, one over the batch size: divided by N twice?)"
    for name, value in hints.numbers:
        if value and (_close(c, value) or _close(c, 1 / value)):
            return f" (your {name} is {value:g}: applied once too often, or not at all?)"
        if value != 1 and (_close(c, 1 - value) or _close(c, 1 / (1 - value))):
            return f" (1 - your {name}, {value:g}: applied once too often, or not at all?)"
    return ""


def diagnose(actual, expected, wrong=None, hints=Hints()):
    """The pattern ``actual`` follows against ``expected`` (same shape), or ``""``.

    Named patterns: NaN or inf entries; an output that does not depend on the array;
    zero everywhere; transposed (square arrays, whose shapes cannot tell); a flipped
    sign (ratio -1); a constant factor, tied to the batch size or to a number the
    object holds where it is one of them; otherwise how many entries disagree
    (``wrong``).
    """
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    known = ~np.isnan(e)
    a, e = np.where(known, a, 0.0), np.where(known, e, 0.0)
    bad = ~np.isfinite(a)
    if bad.any():
        return f"{int(bad.sum())} of {a.size} entries are nan or inf"
    largest = np.abs(e).max() if e.size else 0.0
    if largest == 0:
        why = "(is it used by forward?)" if hints.parameter else "(a clip or a saturation?)"
        return (f"expected zero everywhere: the output does not depend on {hints.about} here "
                f"{why}, and yours is not zero") if np.abs(a).max() > 0 else ""
    if np.abs(a).max() == 0:
        return "yours is zero everywhere (never computed, or multiplied by a zero mask?)"
    if a.ndim == 2 and a.shape[0] == a.shape[1] > 1 and known.all() \
            and np.allclose(a, e.T, rtol=1e-5, atol=1e-7 * largest) \
            and not np.allclose(a, e, rtol=1e-5, atol=1e-7 * largest):
        return "transposed (yours equals expected.T)"
    significant = np.abs(e) > 1e-3 * largest
    ratios = a[significant] / e[significant]
    c = float(np.median(ratios))
    if np.all(np.abs(ratios - c) <= 1e-4 * abs(c) + 1e-12):
        if _close(c, -1):
            return "flipped sign (yours = -expected)"
        if not _close(c, 1, 1e-3):
            return f"a constant factor: yours = {c:.6g} x expected" + _factor_hint(c, hints)
    if wrong:
        return f"{wrong} of {a.size} entries compared disagree"
    return ""


def shape_message(name, shape, expected_shape):
    """Why a gradient of the wrong shape is wrong, e.g. ``(3,)`` for a ``(1, 3)`` array."""
    text = f"{name} has shape {shape}, expected {expected_shape}"
    if len(shape) == 2 and tuple(shape) == tuple(expected_shape)[::-1]:
        return text + " (transposed)"
    if int(np.prod(shape)) == int(np.prod(expected_shape)):
        return text + " (same entries, different shape: keepdims=True?)"
    return text


@dataclasses.dataclass(frozen=True)
class Method:
    """How the finite differences covered one array.

    ``kind``: ``"entries"`` (every entry one by one), ``"directions"`` (random
    directions, with ``near_zero`` entries near 0 and ``at_kinks`` entries at kinks
    the directions crossed differenced one by one, ``then_sampled`` when a failing
    direction sent it to sampled entries), or ``"fallback"`` (a direction crossed a
    kink that halving could not isolate: ``sampled`` of ``size`` entries one by one).
    """

    kind: str = "entries"
    directions: int = 0
    near_zero: int = 0
    near_zero_sampled: bool = False
    at_kinks: int = 0
    then_sampled: bool = False
    sampled: int = 0
    size: int = 0

    @property
    def directional(self):
        return self.kind == "directions"

    @property
    def sampling(self):
        """Whether only some entries were differenced one by one."""
        return self.then_sampled or self.near_zero_sampled or (
            self.kind == "fallback" and self.sampled < self.size)

    def __str__(self):
        if self.kind == "fallback":
            if self.sampled == self.size:
                return "entries (a direction crossed a kink)"
            return f"{self.sampled} sampled entries of {self.size} (a direction crossed a kink)"
        if self.kind != "directions":
            return self.kind
        text = f"directions ({self.directions} random)"
        if self.near_zero:
            text += f" + {self.near_zero}{' sampled' if self.near_zero_sampled else ''} " \
                    "entries near 0 one by one"
        if self.at_kinks:
            text += f" + {self.at_kinks} at kinks the directions crossed"
        return text + (", then sampled entries" if self.then_sampled else "")


@dataclasses.dataclass(frozen=True)
class Finding:
    """How one row was checked, and what is wrong with it, in words."""

    method: Method = Method()
    kinks: int = 0
    message: str = ""
    #: How the oracle fitted the objective (a forward in lower precision), in words.
    note: str = ""
    #: The per-entry expected values when every entry was differenced (not in JSON).
    expected: object = dataclasses.field(default=None, repr=False, compare=False)
    #: And the error bound of each (not in JSON).
    bound: object = dataclasses.field(default=None, repr=False, compare=False)


class CheckReport(Report):
    """The result of checking one object: rows, notes, warnings and a verdict.

    Attributes
    ----------
    title : str
        The object's class name.
    checks : list of nnfs_ref.check.compare.GradientCheck
        One per compared array; ``ok`` is true when all agree.
    oracle : str
        What the hand-written gradients were compared with.
    notes : list of str
        How the object was called and what the objective holds.
    warnings : list of str
        What was not checked and should have been (e.g. an array with no gradient).
    findings : dict of str -> Finding
        Per row name: the mode, the kinks accepted and the diagnosis.
    error : str or None
        Set when the check could not run: the user's code raised, or the
        object cannot be checked (``verdict`` says which).
    """

    def __init__(self, title, checks, oracle, notes=(), warnings=(), findings=None,
                 error=None, verdict=None, owners=None, culprit=None):
        super().__init__(title, list(checks))
        self.oracle = oracle
        self.notes = list(notes)
        self.warnings = list(warnings)
        self.findings = dict(findings or {})
        self.error = error
        self._verdict = verdict
        #: Per row, the object it belongs to (a network's layers); None: ``title``.
        self.owners = owners
        #: A network's first wrong layer going back from the loss (``check_network``).
        self.culprit = culprit

    @classmethod
    def failed(cls, title, oracle, notes, verdict, error):
        """A check that could not run: ``verdict`` "error" (the user's code raised or lacks
        a method) or "cannot check", ``error`` the one-line reason."""
        if verdict not in ("error", "cannot check"):
            raise ValueError(f"verdict must be 'error' or 'cannot check', got {verdict!r}")
        return cls(title, [], oracle, notes, error=error, verdict=verdict)

    def rows(self):
        rows = super().rows()
        for row, owner in zip(rows, self.owners or ()):
            row["cls"] = owner
        return rows

    @property
    def verdict(self):
        """``"ok"``, ``"fail"``, ``"error"`` (your code raised) or ``"cannot check"``."""
        if self._verdict:
            return self._verdict
        return "ok" if super().ok else "fail"

    @property
    def ok(self):
        return self.verdict == "ok"

    @property
    def exit_code(self):
        return EXIT_CODES[self.verdict]

    @property
    def kinks(self):
        return sum(f.kinks for f in self.findings.values())

    def failure_lines(self):
        """One line per failing row: the worst entry, yours vs expected, the pattern."""
        lines = []
        for c in self.failures:
            finding = self.findings.get(c.name, Finding())
            if c.name.endswith(" unchanged") and finding.message:
                lines.append(finding.message)
                continue
            if c.shape != c.expected_shape:
                lines.append(finding.message or shape_message(c.name, c.shape, c.expected_shape))
                continue
            text = f"{c.name} disagrees"
            if finding.method.directional:
                text += f" along random directions (err/tol {c.ratio:.3g})"
            if c.worst_index is not None:
                ratio = (c.actual_worst / c.expected_worst if c.expected_worst
                         else float("nan"))
                where = "sampled entry" if finding.method.sampling else "entry"
                text += (f": worst {where} {c.worst_index}: yours {c.actual_worst:.6g} vs "
                         f"expected {c.expected_worst:.6g} (ratio {ratio:.4g})")
            if finding.message:
                text += f"; {finding.message}"
            lines.append(text)
        return lines

    def summary(self):
        """The verdict line."""
        if self.verdict == "error":
            return f"ERROR: {self.error}"
        if self.verdict == "cannot check":
            return f"CANNOT CHECK: {self.error}"
        kinks = (f"; {self.kinks} entries at kinks: subgradients accepted" if self.kinks
                 else "")
        if self.ok:
            return f"OK: all {len(self.checks)} checks agree{kinks}."
        failing = (f"{len(self.failures)} of {len(self.checks)} checks disagree "
                   f"({', '.join(c.name for c in self.failures)})")
        if self.culprit:
            return (f"FAIL: {failing}; the first wrong backward going back from the loss is "
                    f"{self.culprit} (the layers before it receive its gradient){kinks}")
        return f"FAIL: {failing}{kinks}"

    def __str__(self):
        lines = [f"{self.title}: hand-written gradients vs {self.oracle}"]
        lines += [f"  - {note}" for note in self.notes]
        if self.checks:
            lines.append(super().__str__())
        lines += [f"  {name}: checked along {f.method}" for name, f in self.findings.items()
                  if f.method.directional or f.method.sampling]
        lines += [f"  {name}: {f.note}" for name, f in self.findings.items() if f.note]
        lines += [f"FAIL: {line}" for line in self.failure_lines()]
        lines += [f"WARNING: {w}" for w in self.warnings]
        lines.append(self.summary())
        return "\n".join(lines)

    def __repr__(self):
        return str(self)  # a REPL shows the report as print() does

    def _repr_html_(self):
        """The report as an HTML table for Jupyter, failing rows marked."""
        head = "".join(f"<th>{c}</th>" for c in TABLE_HEADER)
        body = []
        for row in self.rows():
            style = "" if row["ok"] else ' style="background:#fdd;font-weight:bold"'
            body.append(f"<tr{style}>" + "".join(f"<td>{html.escape(cell)}</td>"
                                                 for cell in table_cells(row)) + "</tr>")
        lines = [f"<p><b>{html.escape(self.title)}</b>: hand-written gradients vs "
                 f"{html.escape(self.oracle)}</p>"]
        if self.notes:
            lines.append("<ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in self.notes)
                         + "</ul>")
        if body:
            lines.append(f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}"
                         "</tbody></table>")
        for text in [f"FAIL: {line}" for line in self.failure_lines()] + [
                f"WARNING: {w}" for w in self.warnings]:
            lines.append(f'<p style="color:#a00">{html.escape(text)}</p>')
        colour = "#070" if self.ok else "#a00"
        lines.append(f'<p style="color:{colour}"><b>{html.escape(self.summary())}</b></p>')
        return "\n".join(lines)

    def as_dict(self):
        """A JSON-ready record of the whole report."""
        return {"title": self.title, "verdict": self.verdict, "ok": self.ok,
                "oracle": self.oracle, "notes": self.notes, "warnings": self.warnings,
                "error": self.error, "summary": self.summary(),
                "failures": self.failure_lines(),
                "rows": [dict(row, **_finding_record(self.findings.get(row["name"], Finding())))
                         for row in self.rows()]}


def _finding_record(finding):
    return {"mode": str(finding.method), "kinks": finding.kinks, "message": finding.message,
            "note": finding.note}


def penalty_hint(actual, expected, values, l1, l2):
    """Whether ``yours - expected`` is a multiple of a penalty's gradient term, in words.

    The book's penalties ``l1 sum|p| + l2 sum p**2`` have the gradient
    ``l1 sign(p) + 2 l2 p``; a residual of ``-l2 p`` is the 2 forgotten, one of
    ``-2 l1 sign(p)`` a flipped L1 sign.
    """
    residual = np.asarray(actual, dtype=np.float64) - np.asarray(expected, dtype=np.float64)
    terms = (("L2", l2, "l2 * p", 2 * values), ("L1", l1, "l1 * sign(p)",
                                               np.where(values < 0, -1.0, 1.0)))
    for name, strength, words, term in terms:
        term = strength * np.asarray(term) / (2 if name == "L2" else 1)
        if not strength or not np.any(np.abs(term) > 0):
            continue
        significant = np.abs(term) > 1e-3 * np.abs(term).max()
        c = float(np.median(residual[significant] / term[significant]))
        if abs(c) > 1e-3 and np.allclose(residual, c * term, rtol=1e-3,
                                         atol=1e-6 * np.abs(term).max()):
            right = "2 * l2 * p" if name == "L2" else "l1 * sign(p)"
            return (f"yours - expected = {c:.3g} x {words}: the {name} penalty's gradient "
                    f"is {right}")
    return ""


def progress(total, description, delay=2.0):
    """A progress bar for a long check, in a terminal or a Jupyter notebook only, and only
    once the work has taken ``delay`` seconds (a quick check shows none). In a notebook
    without ipywidgets it is a text bar (tqdm's widget would warn)."""
    shown = total > 0 and (sys.stderr.isatty() or "ipykernel" in sys.modules)
    if shown and "ipykernel" in sys.modules:
        try:
            import ipywidgets  # noqa: F401
            from tqdm.auto import tqdm
        except ImportError:
            from tqdm.std import tqdm
    else:
        from tqdm.std import tqdm
    return tqdm(total=total, desc=description, leave=False, disable=not shown, delay=delay)

"""``check_engine``: a user's own autograd engine, checked operator by operator.

An engine in the style of micrograd: a ``Value(x)`` leaf with ``.data`` and
``.grad``, operators that build a graph, and ``backward()`` on the result; or a
NumPy-backed ``Tensor`` of the same design. The expressions of
:mod:`nnfs_ref.check.expressions` exercise the operators it defines; here each runs
on leaves drawn by Hypothesis, its forward and every leaf's gradient compared with
the same expression on floats or arrays (the finite differences of
:mod:`nnfs_ref.check.numeric`, kinks included). A failure is shrunk, blamed on the
primitive operator, named with the pattern it shows and printed as code that runs.
"""

import dataclasses
import functools
import html
import inspect
import math
from typing import Any

import numpy as np

from nnfs_ref.check.contract import (
    METHOD_NAMES,
    UserCodeError,
    invoke,
    method_name,
    one_line,
    positional_parameters,
)
from nnfs_ref.check.expressions import (
    BINARY,
    CHAIN_SHAPE,
    MATMUL_METHODS,
    REFLECTED,
    UNARY,
    cases,
    chain_case,
    chain_steps,
    code,
    defined,
    function_cases,
    is_tensor_engine,
    leaf_values,
    module_functions,
    module_namespace,
    tensor_cases,
    unmapped,
)
from nnfs_ref.check.judge import numeric_finding
from nnfs_ref.check.report import EXIT_CODES, assert_ok
from nnfs_ref.check.session import streams
from nnfs_ref.check.settings import Settings
from nnfs_ref.table import format_rows

#: The operators each is often built from (``a - b`` as ``a + (-b)``, ``-a`` as ``a * -1``,
#: ``a / b`` as ``a * b ** -1``): where one of these fails too, the failure is blamed on it.
BUILT_FROM = {
    "__sub__": ("__add__", "__neg__", "__mul__", "__rmul__"),
    "__rsub__": ("__sub__", "__add__", "__radd__", "__neg__", "__mul__", "__rmul__"),
    "__neg__": ("__mul__", "__rmul__"),
    "__truediv__": ("__mul__", "__pow__"),
    "__rtruediv__": ("__truediv__", "__mul__", "__rmul__", "__pow__"),
    "__radd__": ("__add__",), "__rmul__": ("__mul__",),
    "backward": ("__add__", "__mul__", "__sub__", "__neg__", "tanh", "sigmoid", "relu"),
    "mean": ("sum", "__mul__", "__truediv__"),
    # a unary operator is also run with a node used twice (v.tanh() * v) and at its kink
    # (v.relu() * 3.0)
    **{name: ("__mul__",) for name in UNARY},
}


def is_engine(cls):
    """Whether ``cls`` looks like an autograd engine: it defines arithmetic dunders and a
    backward that takes no argument, or one with no ``forward`` beside it (a layer's
    ``backward(dvalues)`` has one)."""
    if not inspect.isclass(cls) or not (defined(cls, "__add__") or defined(cls, "__mul__")):
        return False
    try:
        required = _required(getattr(cls, method_name(cls, "backward")))
    except UserCodeError:  # no backward at all: not an engine
        return False
    if required is None:  # no signature to read
        return False
    return required[1:] == [] or not any(callable(getattr(cls, name, None))  # [0]: self
                                         for name in METHOD_NAMES["forward"])


def _required(fn):
    """The positional parameters ``fn`` cannot do without (a bound method's ``self``
    excluded, an unbound one's not); None where it has no signature to read."""
    positional = positional_parameters(fn)[0]
    return None if positional is None else [p for p in positional if p.default is p.empty]


def _backward(value):
    """The value's backward method, by any of its names (``backward``, ``backprop``...)."""
    return getattr(value, method_name(value, "backward"))


@dataclasses.dataclass
class OperatorResult:
    """What one operator's expressions gave: how many ran, which failed, and why, and the
    smallest failing case as a snippet that runs."""

    operator: str
    checked: int = 0
    failures: list = dataclasses.field(default_factory=list)
    snippet: str = ""
    #: The failing operator this one is built from, where one is (then it is not blamed).
    through: str = ""
    #: The forms it refuses in its forward (``v ** 0.5`` where only integer powers are
    #: meant), with what they raised: not checked, and said so.
    unsupported: dict = dataclasses.field(default_factory=dict)
    #: The expression with a number on the left that raised in its forward (a reflected
    #: operator missing, or refusing the number), if one did: a failure unless the engine
    #: takes no number on the right either.
    refused: str = ""
    #: Whether it is not defined at all: then it is blamed itself, never through another.
    undefined: bool = False
    #: The ``(case, values)`` of each unsupported form, for its snippet where it turns out
    #: to be a failure after all (another operator takes the number it refused).
    refusals: dict = dataclasses.field(default_factory=dict, repr=False)

    def as_dict(self):
        return {"checked": self.checked, "failures": self.failures, "snippet": self.snippet,
                "through": self.through, "unsupported": self.unsupported}

    @property
    def ok(self):
        return not self.failures


@dataclasses.dataclass
class EngineReport:
    """The operators of an engine: ``.ok``, ``.failing`` (the operators blamed),
    ``.missing`` (those looked for and not defined), ``.unchecked`` (those it defines and
    no expression runs) and a text form."""

    title: str
    results: dict
    missing: list
    unchecked: list = dataclasses.field(default_factory=list)
    notes: list = dataclasses.field(default_factory=list)
    #: Set where the engine's leaves cannot be made: nothing was checked.
    error: str = ""

    #: What the gradients are compared with.
    ORACLE = ("each operator's gradients vs central finite differences of the same "
              "expression on floats (float64)")

    @property
    def failing(self):
        """The operators blamed: failing, and not through another failing operator."""
        return [name for name, r in self.results.items() if not r.ok and not r.through]

    @property
    def ok(self):
        return self.verdict == "ok"

    @property
    def verdict(self):
        """``"ok"``, ``"fail"`` or ``"error"`` (no leaf could be made)."""
        if self.error or not self.results:
            return "error"
        return "fail" if self.failing else "ok"

    @property
    def exit_code(self):
        return EXIT_CODES[self.verdict]

    def as_dict(self):
        """The report as JSON takes it: the verdict, the lists, and each operator's result."""
        return {"title": self.title, "verdict": self.verdict, "failing": self.failing,
                "missing": self.missing, "unchecked": self.unchecked, "notes": self.notes,
                "error": self.error,
                "operators": {name: r.as_dict() for name, r in self.results.items()}}

    def rows(self):
        """``(operator, examples, failed, result)`` for each operator, in the order run."""
        return [(name, r.checked, len(r.failures), "not supported" if r.ok and not r.checked
                 else "pass" if r.ok else f"FAIL (through {r.through})" if r.through
                 else "FAIL")
                for name, r in self.results.items()]

    def failure_lines(self):
        """``FAIL: <operator> (<pattern> at <values>): ...``, up to 3 per operator blamed."""
        return [f"FAIL: {name} {message}" for name in self.failing
                for message in self.results[name].failures[:3]]

    def listed(self):
        """The lines of the operators not checked: not defined, or defined and not run."""
        return ((["not defined, so not checked: " + ", ".join(self.missing)]
                 if self.missing else []) +
                (["defined, but no expression of the check runs them: "
                  + ", ".join(self.unchecked)] if self.unchecked else []))

    def summary(self):
        """The verdict's line: ``OK: all N operators agree.`` or which disagree."""
        if self.verdict == "error":
            return f"{self.title}: cannot be checked: {self.error or 'no operator was found'}"
        if self.ok:
            return f"OK: all {len(self.results)} operators agree."
        through = [f"{n} fails through {r.through}" for n, r in self.results.items()
                   if r.through]
        return (f"FAIL: {len(self.failing)} of {len(self.results)} operators disagree "
                f"({', '.join(self.failing)})" + ("; " + ", ".join(through) if through
                                                   else ""))

    def __str__(self):
        if self.verdict == "error":
            return self.summary()
        lines = [f"{self.title}: {self.ORACLE}"]
        lines += [f"  - {note}" for note in self.notes]
        lines.append(format_rows(("operator", "examples", "failed", "result"), self.rows()))
        lines += self.failure_lines() + self.listed()
        if self.failing:
            lines += ["", f"The smallest failing case of {self.failing[0]}, to run yourself:",
                      self.results[self.failing[0]].snippet, ""]
        lines.append(self.summary())
        return "\n".join(lines)

    def _repr_html_(self):
        """The report as an HTML table for Jupyter, failing rows marked."""
        if self.verdict == "error":
            return f'<p style="color:#a00"><b>{html.escape(self.summary())}</b></p>'
        head = "".join(f"<th>{c}</th>" for c in ("operator", "examples", "failed", "result"))
        body = "".join(
            ("<tr>" if result in ("pass", "not supported") else
             '<tr style="background:#fdd;font-weight:bold">')
            + "".join(f"<td>{html.escape(str(cell))}</td>"
                      for cell in (name, checked, failed, result)) + "</tr>"
            for name, checked, failed, result in self.rows())
        lines = [f"<p><b>{html.escape(self.title)}</b>: {html.escape(self.ORACLE)}</p>"]
        if self.notes:
            lines.append("<ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in self.notes)
                         + "</ul>")
        lines.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        lines += [f'<p style="color:#a00">{html.escape(t)}</p>' for t in self.failure_lines()]
        lines += [f"<p>{html.escape(t)}</p>" for t in self.listed()]
        if self.failing:
            lines.append(f"<pre>{html.escape(self.results[self.failing[0]].snippet)}</pre>")
        colour = "#070" if self.ok else "#a00"
        lines.append(f'<p style="color:{colour}"><b>{html.escape(self.summary())}</b></p>')
        return "\n".join(lines)

    def __repr__(self):
        return str(self)


def check_engine(cls: type, *, examples: int = 10, seed: int = 0, rtol: float | None = None,
                 scale_tol: float | None = None, target: str | None = None) -> EngineReport:
    """Check a scalar or tensor engine's operators, each in the expressions of
    :mod:`nnfs_ref.check.expressions`.

    ``cls(x)`` makes a leaf from a float (a scalar engine) or a float64 array (a tensor
    engine, shapes as the expressions give them: (3, 4), (3, 1), (4,), () ...), with
    ``requires_grad=True`` where the constructor takes it. ``.data`` and ``.grad`` are
    read (``value``, ``gradient`` too), and ``backward()`` is called on each result: from
    a random upstream gradient of the result's shape for a tensor result, ``dleaf =
    vjp(expression, leaf)(upstream)``, compared with the central finite differences of
    ``sum(upstream * expression)`` on plain arrays.

    Each expression runs on ``examples`` leaf values drawn by Hypothesis (seeded by
    ``seed``); a failure is shrunk to the simplest failing values and printed as a
    snippet that runs (``target``: ``module:Class`` for its import line). ``rtol`` and
    ``scale_tol`` (default 1e-7) are those of :class:`~nnfs_ref.check.settings.Settings`.
    Returns an :class:`EngineReport`; nothing is raised for a wrong engine, a
    ``TypeError`` or ``ValueError`` for a call that is not one.
    """
    from hypothesis import strategies as st
    from hypothesis.extra.numpy import arrays

    if not inspect.isclass(cls):
        raise TypeError(f"check_engine takes the engine's class (such as Value), got "
                        f"{'a ' + type(cls).__name__ + ' object' if cls is not None else 'None'}")
    if isinstance(examples, bool) or not isinstance(examples, int) or examples < 1:
        raise ValueError(f"examples must be a positive int, got {examples!r}")
    settings = Settings.of(rtol=rtol, scale_tol=scale_tol, seed=seed)
    tensor = is_tensor_engine(cls)
    try:
        method_name(cls, "backward")
    except UserCodeError as exc:  # nothing to start a backward pass with
        return EngineReport(cls.__name__, {}, [], error=str(exc))
    try:
        probe = _leaf(cls, np.ones((3, 4)) if tensor else 1.5)
    except UserCodeError as exc:
        return EngineReport(cls.__name__, {}, [], error=f"a leaf {cls.__name__}(x) could not "
                            f"be made from {'an array' if tensor else 'a float'}: {exc}")
    precision = _precision(probe)
    # An absolute allowance per unit of upstream gradient (scaled by the largest in each
    # tensor expression): the terms of every gradient here are products of a few values of
    # order 1 (0.2 to 2, and 2.5), so a gradient that cancels to about 0 (x - x, relu(0)**2)
    # is resolved to scale_tol of 1, not of itself.
    settings = dataclasses.replace(settings, atol=max(settings.atol, settings.scale_tol))
    if precision is not None:
        # the terms: a few products of values up to 2 (8 at most)
        settings = dataclasses.replace(settings.at_least(FLOAT32_FLOOR),
                                       atol=max(settings.atol, 8 * FLOAT32_FLOOR))
    found, missing, forms = tensor_cases(cls) if tensor else cases(cls)
    found += function_cases(cls, tensor)
    functions = set(module_functions(cls))
    missing = [name for name in missing if name not in functions]
    rng = streams(seed)[1]
    run = _run_tensor if tensor else _run

    def leaves(case):
        if tensor:
            return st.tuples(*[arrays(np.float64, shape, elements=leaf_values(case.domain))
                               for shape in case.shapes]).map(list)
        return st.lists(leaf_values(case.domain), min_size=case.leaves, max_size=case.leaves)

    def attempt(result, case, values):
        """``(case, values, the failure or None)``, the result's counts and forms kept."""
        result.checked += 1
        try:
            return case, values, run(cls, case, values, settings, rng)
        except Unsupported as refused:
            result.checked -= 1
            result.unsupported[case.pattern] = str(refused)
            result.refusals[case.pattern] = (case, values)
            return case, values, None
        except LeftNumberRefused as refused:
            result.refused, result.undefined = case.pattern, refused.undefined
            return case, values, str(refused)

    results = {}
    for case in found:
        result = results.setdefault(case.operator, OperatorResult(case.operator))
        _record(cls, result, target, _smallest_failure(
            leaves(case), functools.partial(attempt, result, case), examples, seed))
    numbers = not any(r.unsupported for r in results.values() if r.operator in BINARY)
    steps = chain_steps(cls, numbers)
    if steps is not None:  # chains of the operators, with the graph's traversal to blame
        chains = results.setdefault("backward", OperatorResult("backward"))
        shape = CHAIN_SHAPE if tensor else None
        two = leaves(chain_case([], shape))
        _record(cls, chains, target, _smallest_failure(
            st.tuples(steps, two), lambda drawn: attempt(chains, chain_case(drawn[0], shape),
                                                         drawn[1]), examples, seed))
    _numbers_refused(cls, results, target)
    _blame_the_primitives(results)
    _blame_the_sort(results)
    report = EngineReport(cls.__name__, results, missing, unmapped(cls, found), list(forms))
    report.notes += [f"{name}: {pattern} raised in its forward ({why}): taken as a form it "
                     "does not support, not checked"
                     for name, r in results.items() for pattern, why in r.unsupported.items()]
    if precision is not None:
        report.notes.append(f"computes in {precision}: rtol and scale_tol raised to "
                            f"{FLOAT32_FLOOR:.2g} (64 ulps of float32), atol to 8 times that "
                            "per unit of upstream gradient (terms up to 8)")
    if tensor:
        report.notes.append("a tensor engine: leaves are arrays, a result's backward is "
                            "started with a random upstream gradient")
    report.notes.append(_twice(cls, tensor))
    return report


def assert_engine(cls: type, **kwargs: Any) -> EngineReport:
    """:func:`check_engine`, raising ``AssertionError`` with the report unless it is OK."""
    return assert_ok(check_engine(cls, **kwargs))


#: The tolerance of a float32 engine: 64 ulps of float32, the rounding of a few operations
#: whose inputs are of order 1 (values 0.2 to 2).
FLOAT32_FLOOR = 64 * float(np.finfo(np.float32).eps)


def _precision(leaf):
    """The dtype an engine computes in, read from one of its leaves, when it is below
    float64 (else None)."""
    try:
        dtype = np.asarray(_inside(leaf)).dtype
    except Exception:  # a value NumPy cannot read: the checks will say what is wrong
        return None
    return str(dtype) if dtype.kind == "f" and dtype.itemsize < 8 else None


def _smallest_failure(strategy, attempt, examples, seed):
    """Run ``attempt(drawn)`` on ``examples`` draws of ``strategy`` (seeded by ``seed``),
    where ``attempt`` returns ``(case, values, message or None)``; Hypothesis shrinks a
    failure, and the last failing ``(case, values, message)`` is returned, or None."""
    from hypothesis import HealthCheck, Phase, given
    from hypothesis import seed as hypothesis_seed
    from hypothesis import settings as hypothesis_settings

    failing = []

    @hypothesis_seed(seed)
    @hypothesis_settings(max_examples=examples, database=None, deadline=None,
                         print_blob=False, suppress_health_check=list(HealthCheck),
                         phases=[Phase.generate, Phase.shrink])
    @given(strategy)
    def expression(drawn):
        case, values, message = attempt(drawn)
        if message:
            failing.append((case, values, message))
            raise AssertionError(message)

    try:
        expression()
    except Exception:  # Hypothesis re-raises the smallest failure: read it below
        if not failing:
            raise
    return failing[-1] if failing else None


def _record(cls, result, target, failure):
    """Add a failure of ``_smallest_failure`` to ``result``, with the first snippet."""
    if failure is not None:
        case, values, message = failure
        result.failures.append(message)
        result.snippet = result.snippet or snippet(cls, case, values, target)


def snippet(cls, case, values, target=None):
    """Code that rebuilds one failing expression and prints its leaves' gradients."""
    module, name = (target.rsplit(":", 1) if target and ":" in target
                    else (cls.__module__, cls.__name__))
    names = "ab"[:len(values)]
    tensor = is_tensor_engine(cls)
    flag = "".join(f", {k}={v!r}" for k, v in _flag(cls).items()) if tensor else ""
    shown = [f"np.array({np.asarray(v).tolist()!r}){flag}" if tensor else repr(float(v))
             for v in values]
    lines = ["import numpy as np"] if tensor else []
    imports = [name] + ([case.operator.rsplit(".", 1)[1]] if "." in case.operator else [])
    backward = method_name(cls, "backward")
    required = (_required(getattr(cls, backward)) or [None])[1:]  # [0]: self
    if not tensor:
        backward = f"out.{backward}()"
    elif required or not defined(cls, "sum"):
        backward = (f"out.{backward}(np.ones(out.data.shape))  # the check's upstream "
                    "gradient is random")
    else:
        backward = f"out.sum().{backward}()  # the check's upstream gradient is random"
    return "\n".join(lines + [f"from {module} import {', '.join(imports)}",
                              f"{', '.join(names)} = {', '.join(f'{name}({v})' for v in shown)}",
                              code(case), backward,
                              f"print({', '.join(f'{n}.grad' for n in names)})"])


def _twice(cls, tensor=False):
    """What a second ``backward()`` on the same graph, ``(a * b) * b``, does to ``a``'s
    gradient, in words: a fresh start (1x), an accumulation (2x), or neither, where the
    intermediate node ``a * b`` kept its gradient from the first call (3x)."""
    try:
        if tensor:
            a, b = _leaf(cls, np.array([1.5, 2.0])), _leaf(cls, np.array([-0.5, 1.0]))
            out = ((a * b) * b).sum()
        else:
            a, b = _leaf(cls, 1.5), _leaf(cls, -0.5)
            out = (a * b) * b
        _start_backward(cls, out, np.ones(()))
        first = float(np.ravel(_array(_grad(a)))[0])
        _start_backward(cls, out, np.ones(()))
        second = float(np.ravel(_array(_grad(a)))[0])
    except Exception as exc:  # not part of the verdict: say so and go on
        return f"a second backward() could not be tried: {one_line(exc)}"
    reset = _reset(cls, a)
    if not first or math.isclose(second, first, rel_tol=1e-6):
        return "backward() twice gives the same gradients: each call starts afresh"
    if math.isclose(second, 2 * first, rel_tol=1e-6):
        return ("backward() twice without zeroing gives 2x: gradients accumulate over calls"
                + (f", reset by {reset}" if reset else "; reset them (v.grad = 0) between "
                   "steps"))
    return (f"backward() twice on the same graph gives {second / first:.3g}x, neither a "
            "fresh start (1x) nor an accumulation (2x): the intermediate nodes kept their "
            "gradients from the first call; build the graph again for each backward(), as a "
            "training step does")


def _numbers_refused(cls, results, target):
    """Numbers as operands, judged over all the binary operators. Where some take a number
    and others raise for it (``a * 2.5`` raising where ``a + 2.5`` works), the others
    fail: a forgotten wrap, not a design. Where none takes one, a reflected operator that
    raises (``2.5 + a``) is no missing operator either: numbers are not operands."""
    binary = {name: r for name, r in results.items() if name in BINARY}
    refusing = [name for name, r in binary.items() if r.unsupported]
    taking = [name for name in binary if name not in refusing]
    for name in refusing if taking else ():
        result = results[name]
        for pattern, why in result.unsupported.items():
            result.failures.append(f"({pattern}): {pattern} raised {why}, though "
                                   f"{taking[0]} takes a number")
            result.snippet = result.snippet or snippet(cls, *result.refusals[pattern], target)
        result.unsupported, result.refusals = {}, {}
    for name, result in results.items() if refusing and not taking else ():
        plain = results.get(name[:2] + name[3:]) if name in REFLECTED else None
        if result.refused and plain is not None:
            result.unsupported = {result.refused: "no number is an operand of "
                                  f"{plain.operator} either"}
            result.failures, result.snippet, result.refused = [], "", ""
            result.undefined = False
            result.checked = 0


def _reset(cls, node):
    """How the engine resets gradients, in words: ``zero_grad()`` on a node, or on a class
    of its module (micrograd's ``Module.zero_grad()``); None where it has neither."""
    for name in ("zero_grad", "zero_grads"):
        if callable(getattr(node, name, None)):
            return f"{name}()"
    for owner, value in sorted(module_namespace(cls).items()):
        if inspect.isclass(value) and value.__module__ == cls.__module__ \
                and callable(getattr(value, "zero_grad", None)):
            return f"{owner}.zero_grad()"
    return None


def _blame_the_primitives(results):
    """A failing operator built from another failing one fails through it."""
    for name, result in results.items():
        if result.ok or result.undefined:
            continue
        primitive = next((p for p in BUILT_FROM.get(name.rsplit(".", 1)[-1], ())
                          if p in results and not results[p].ok), None)
        if primitive is not None:
            result.through = primitive


def _run(cls, case, values, settings, rng):
    """Run one expression: None if its gradients agree, else the failure in words."""
    shown = ", ".join(f"{v:.6g}" for v in values)
    try:
        leaves = [_leaf(cls, float(v)) for v in values]
        out = case.build(*leaves)
        invoke(_start_backward, "backward", cls, out, np.ones(()))
        grads = [_grad(leaf) for leaf in leaves]
        # None: no gradient reached the leaf (judged as 0, right where it is not used)
        yours = np.array([0.0 if g is None else float(g) for g in grads])
    except UserCodeError as exc:
        hint = ""
        if case.operator == "__pow__" and "domain" in str(exc) and min(values) < 0:
            hint = (": the exponent's gradient, log(a) * a ** k, has no value at a negative a;"
                    " a number exponent needs none")
        return f"({case.pattern} at {shown}): {exc}{hint}"
    except Exception as exc:  # the expression itself raised (an operator missing)
        return f"({case.pattern} at {shown}): {_raised(cls, case, exc)}"

    def twin(x):
        return float(case.build(*[float(v) for v in x]))

    wrong = _wrong_forward(out, twin(values), settings)
    if wrong:
        return f"({case.pattern} at {shown}): {wrong}"
    check, finding = numeric_finding("grad", yours, twin, np.array(values, dtype=float),
                                     settings, rng)
    if check.ok:
        return None
    expected = finding.expected if finding.expected is not None else np.full(len(values),
                                                                             np.nan)
    worst = int(np.nanargmax(np.abs(yours - expected))) if len(values) > 1 else 0
    text = (f"({case.pattern} at {shown}): leaf {worst} grad yours {yours[worst]:.6g}, "
            f"expected {expected[worst]:.6g}")
    ratio = yours[worst] / expected[worst] if expected[worst] else float("nan")
    if case.pattern.startswith("with a node used twice") and math.isfinite(ratio) \
            and abs(ratio - 0.5) < 1e-6:
        text += (": the gradient is assigned, not accumulated (= instead of += in "
                 "_backward?)")
    return text


class Unsupported(Exception):
    """A form the engine refuses in its forward: a power other than 2 (``v ** 0.5``) where
    it takes ``v ** 2``, a matrix product with a vector operand, or a Python number as an
    operand (``a + 2.5``, and then ``2.5 + a`` too): a limit of its design, not a wrong
    gradient."""


def _vector_product(case):
    """Whether ``case`` is a matrix product with a vector operand (``(4,) @ (4, 2)``)."""
    return (case.operator in ("__matmul__", *MATMUL_METHODS)
            and any(len(shape) == 1 for shape in case.shapes))


class LeftNumberRefused(Exception):
    """An expression with a Python number on the left (``2.5 - v``) that raised in its
    forward, ``__rsub__`` not defined (``undefined``) or refusing the number: the failure,
    in words."""

    def __init__(self, message, undefined):
        super().__init__(message)
        self.undefined = undefined


def _raised(cls, case, exc):
    """The words for an expression that raised outside the engine's backward. A form the
    engine may refuse by design (a power other than 2, a number as an operand, a vector in
    a matrix product) is :class:`Unsupported`; a number on the left is
    :class:`LeftNumberRefused`, naming a reflected operator that is not defined."""
    if case.number or case.operator == "__pow__" and not case.pattern.endswith("** 2") \
            or _vector_product(case):
        raise Unsupported(one_line(exc))
    text = f"{case.pattern.split(': ')[-1]} raised {one_line(exc)}"
    if case.operator in REFLECTED:
        undefined = not defined(cls, case.operator)
        raise LeftNumberRefused(f"({case.pattern}): {text}" + (
            f": {case.operator} is not defined (a number on the left needs the reflected "
            "operator)" if undefined else ""), undefined)
    return text


def _wrong_forward(out, expected, settings):
    """Words for a forward whose value is not the expression's (at the check's tolerances),
    else "": its gradients would be judged against another function."""
    from nnfs_ref.check.compare import compare

    yours = _array(out)
    expected = np.asarray(expected, dtype=np.float64)
    if yours.size != expected.size:
        return f"the result has shape {yours.shape}, expected {expected.shape}"
    check = compare("output", yours.reshape(expected.shape), expected, settings.rtol,
                    settings.scale_tol, atol=settings.atol)
    if check.ok:
        return ""
    where = f" at {check.worst_index}" if expected.ndim else ""
    return (f"the forward is wrong{where}: yours {check.actual_worst:.6g}, expected "
            f"{check.expected_worst:.6g}")


def _blame_the_sort(results):
    """A shared intermediate node that fails where every operator alone passes is the
    topological sort's: a node's gradient is propagated twice (or missed)."""
    sort = results.get("backward")
    if sort is not None and not sort.ok and all(r.ok for n, r in results.items()
                                                if n != "backward"):
        sort.failures = [f + ": a node's gradient is propagated twice, or a node is missed "
                         "(does the topological sort visit each node once?)"
                         for f in sort.failures]


#: Where an engine keeps a node's gradient, by the names it goes by.
GRAD_NAMES = ("grad", "gradient", "_grad")


def _grad(node):
    """The gradient of a node after ``backward()``: its ``grad`` (or ``gradient``)."""
    for name in GRAD_NAMES:
        if hasattr(node, name):
            return getattr(node, name)
    raise UserCodeError(f"{type(node).__name__} has no gradient attribute after backward() "
                        f"(looked for {', '.join(GRAD_NAMES)})")


def _flag(cls):
    """``{"requires_grad": True}`` where the constructor takes it, else ``{}``."""
    return {"requires_grad": True} if "requires_grad" in positional_parameters(cls)[1] else {}


def _leaf(cls, value):
    """A leaf: ``cls(value)`` from a float or an array, with ``requires_grad=True`` where
    the constructor takes it."""
    return invoke(cls, f"{cls.__name__}()", value, **_flag(cls))


#: Where an engine keeps a node's value, by the names it goes by.
DATA_NAMES = ("data", "value", "val")


def _inside(x):
    """The value inside a node (its ``data``, or ``value``), or ``x`` itself."""
    for name in DATA_NAMES:
        inside = getattr(x, name, None)
        if inside is not None and not callable(inside):
            return inside
    return x


def _array(x):
    """The value inside a node, or ``x`` itself, as a float64 array."""
    return np.asarray(_inside(x), dtype=np.float64)


class Upstream(np.ndarray):
    """The upstream gradient handed to an engine's ``backward(grad)``: an array whose
    ``.data`` is the array itself, as a node's ``.data`` is, for engines that read
    ``grad.data`` (an ndarray's own ``.data`` is a raw buffer)."""

    @property
    def data(self):
        return self.view(np.ndarray)


def _start_backward(cls, out, cotangent):
    """Backward from ``out`` with the upstream gradient ``cotangent``: ``backward()`` on a
    scalar result (``backward(ones)`` where it needs one), ``backward(cotangent)`` where
    backward takes one, else ``(out * cotangent).sum().backward()``."""
    backward = _backward(out)
    takes = positional_parameters(backward)[0]
    if np.size(_array(out)) == 1:
        cotangent[...] = 1.0
        return (backward(np.ones_like(_array(out)).view(Upstream)) if _required(backward)
                else backward())
    if takes:  # a copy: an engine may keep it as the result's grad and add into it
        return backward(np.array(cotangent).view(Upstream))
    return _backward((out * _leaf(cls, cotangent)).sum())()


def _run_tensor(cls, case, values, settings, rng):
    """Run one tensor expression: None if every leaf's gradient agrees, else the failure."""
    shapes = " and ".join(str(v.shape) for v in values)
    expected = case.build(*[v.copy() for v in values])
    cotangent = streams(settings.seed)[0].standard_normal(np.shape(expected))
    try:
        leaves = [_leaf(cls, v.copy()) for v in values]
        out = case.build(*leaves)
        wrong = _wrong_forward(out, expected, settings)
        if wrong:
            return f"({case.pattern}, shapes {shapes}): {wrong}"
        # the same entries in the result's own shape, where it keeps a size-1 axis
        invoke(_start_backward, "backward", cls, out,
               cotangent.reshape(np.shape(_array(out))))
        yours = [None if g is None else _array(g) for g in map(_grad, leaves)]
    except UserCodeError as exc:
        hint = ""
        if "broadcasting" in case.pattern and "broadcast" in str(exc):
            hint = ": sum the gradient over the broadcast axes"
        elif _vector_product(case):
            hint = (": a vector operand's gradient is that of a (1, k) row on the left, or a "
                    "(k, 1) column on the right, reshaped back")
        return f"({case.pattern}, shapes {shapes}): {exc}{hint}"
    except Exception as exc:  # the expression itself raised (an operator missing)
        return f"({case.pattern}, shapes {shapes}): {_raised(cls, case, exc)}"
    scaled = dataclasses.replace(settings, atol=settings.atol * max(1.0, float(np.abs(
        cotangent).max(initial=0.0))))
    for i, grad in enumerate(yours):
        def twin(x, i=i):
            arrays = [x if j == i else v for j, v in enumerate(values)]
            return float(np.sum(cotangent * case.build(*arrays)))

        # None: no gradient reached the leaf, right where the expression does not use it
        judged = np.zeros_like(values[i]) if grad is None else grad
        check, finding = numeric_finding(f"leaf {i} grad", judged, twin, values[i], scaled,
                                         rng)
        if not check.ok and grad is None:
            return (f"({case.pattern}, shapes {shapes}): backward left leaf {i}'s grad None, "
                    "though the result depends on it")
        if not check.ok:
            text = f"({case.pattern}, shapes {shapes}): {finding.message or check.name}"
            if check.shape != check.expected_shape and "broadcasting" in case.pattern:
                text += ": sum the gradient over the broadcast axes"
            elif check.worst_index is not None:
                text = (f"({case.pattern}, shapes {shapes}): leaf {i} grad disagrees at "
                        f"{check.worst_index}: yours {check.actual_worst:.6g}, expected "
                        f"{check.expected_worst:.6g}" + (f"; {finding.message}"
                                                         if finding.message else ""))
            return text
    return None

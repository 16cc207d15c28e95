"""``check_engine``: a user's own scalar autograd engine, checked operator by operator.

An engine in the style of micrograd: a ``Value(x)`` leaf with ``.data`` and
``.grad``, operators that build a graph, and ``backward()`` on the result. The
operators it defines are found (dunders such as ``__mul__`` and ``__rsub__``,
methods such as ``relu`` and ``tanh``), and each is run in small expressions:
alone, with a node used twice (``a * a``), with a Python number on either side
(``2.5 - v``) and inside a small graph whose intermediate node is shared. Each
leaf's gradient is compared with the finite differences of the same expression
computed on plain floats (the oracle of :mod:`nnfs_ref.check.numeric`, kinks
included), and a failure is blamed on the operator, with the pattern it shows.

A tensor engine (one that defines ``__matmul__``, ``sum``, ``mean`` or
``reshape``) is run on arrays: broadcasting shapes, matmul of matrices and
vectors, reductions over each axis with and without ``keepdims``.
"""

import dataclasses
import functools
import inspect
import math
import sys

import numpy as np

from nnfs_ref.check.contract import (
    METHOD_NAMES,
    UserCodeError,
    invoke,
    method_name,
    one_line,
    positional_parameters,
)
from nnfs_ref.check.judge import numeric_finding
from nnfs_ref.check.report import EXIT_CODES
from nnfs_ref.check.session import streams
from nnfs_ref.check.settings import Settings
from nnfs_ref.table import format_rows

#: Binary operators: (dunder, Python form, on floats).
BINARY = {
    "__add__": ("a + b", lambda a, b: a + b), "__sub__": ("a - b", lambda a, b: a - b),
    "__mul__": ("a * b", lambda a, b: a * b), "__truediv__": ("a / b", lambda a, b: a / b),
}
#: Reflected forms with a number on the left.
REFLECTED = {
    "__radd__": ("2.5 + v", lambda v: 2.5 + v), "__rsub__": ("2.5 - v", lambda v: 2.5 - v),
    "__rmul__": ("2.5 * v", lambda v: 2.5 * v), "__rtruediv__": ("2.5 / v", lambda v: 2.5 / v),
}
#: Named unary methods and their float twins, with the domain of the values drawn.
UNARY = {
    "relu": (lambda x: x if x > 0 else 0.0, "any"), "tanh": (math.tanh, "any"),
    "exp": (math.exp, "any"), "log": (math.log, "positive"),
    "sigmoid": (lambda x: 1 / (1 + math.exp(-x)), "any"),
}
#: Exponents the power rule is run with (fractional ones on positive values only).
EXPONENTS = (2, 3, -1, 0.5)
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
}


def is_engine(cls):
    """Whether ``cls`` looks like an autograd engine: it defines arithmetic dunders and a
    backward that takes no argument, or one with no ``forward`` beside it (a layer's
    ``backward(dvalues)`` has one)."""

    if not inspect.isclass(cls) or not (_defined(cls, "__add__") or _defined(cls, "__mul__")):
        return False
    try:
        backward = getattr(cls, method_name(cls, "backward"))
        required = [p for p in list(inspect.signature(backward).parameters.values())[1:]
                    if p.default is inspect.Parameter.empty
                    and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (UserCodeError, TypeError, ValueError):  # no backward at all: not an engine
        return False
    return not required or not any(callable(getattr(cls, name, None))
                                   for name in METHOD_NAMES["forward"])


def _backward(value):
    """The value's backward method, by any of its names (``backward``, ``backprop``...)."""
    return getattr(value, method_name(value, "backward"))


def _defined(cls, name):
    """Whether the class (not ``object``) defines ``name``."""
    return any(name in vars(base) for base in cls.__mro__ if base is not object)


def _apply(x, name):
    """``x.name()`` on an engine's value, the float twin on a float or, entry by entry, on
    an array."""
    if isinstance(x, np.ndarray):
        return np.vectorize(UNARY[name][0], otypes=[float])(x)
    return UNARY[name][0](x) if isinstance(x, float) else getattr(x, name)()


@dataclasses.dataclass(frozen=True)
class Case:
    """One expression: the operator it is about, its pattern, how many leaves, the
    expression (on engine values and on floats alike), the leaves' domain."""

    operator: str
    pattern: str
    leaves: int
    build: object
    domain: str = "any"
    #: Whether the expression has a Python number as an operand (``a + 2.5``).
    number: bool = False
    #: The expression as code, where the pattern is not (none for a scalar engine's).
    text: str = ""


def cases(cls):
    """The expressions that exercise the operators ``cls`` defines, the names of the
    operators it lacks among the ones looked for, and notes (none for a scalar engine).

    A reflected form (``__rsub__``) is looked for wherever its plain form is defined: the
    case runs either way, and fails where ``2.5 - v`` raises."""
    found = []
    for dunder, (form, fn) in BINARY.items():
        if _defined(cls, dunder):
            domain = "nonzero" if dunder == "__truediv__" else "any"
            found += [Case(dunder, form, 2, fn, domain),
                      Case(dunder, "with a node used twice: " + form.replace("b", "a"), 1,
                           lambda a, fn=fn: fn(a, a), domain),
                      Case(dunder, form.replace("b", "2.5"), 1, lambda a, fn=fn: fn(a, 2.5),
                           domain, number=True)]
    for dunder, (form, fn) in REFLECTED.items():
        if _defined(cls, dunder[:2] + dunder[3:]):  # __rmul__ is looked for where __mul__ is
            found.append(Case(dunder, form, 1, fn,
                              "nonzero" if dunder == "__rtruediv__" else "any"))
    if _defined(cls, "__neg__"):
        found.append(Case("__neg__", "-v", 1, lambda a: -a))
    if _defined(cls, "__pow__"):
        for k in EXPONENTS:
            found.append(Case("__pow__", f"v ** {k}", 1, lambda a, k=k: a ** k,
                              "positive" if k != int(k) or k < 0 else "any"))
    if _defined(cls, "__rpow__"):
        found.append(Case("__rpow__", "2 ** v", 1, lambda a: 2 ** a))
    for name, (_, domain) in UNARY.items():
        if _defined(cls, name):
            found += [Case(name, f"v.{name}()", 1, lambda a, n=name: _apply(a, n), domain),
                      Case(name, f"with a node used twice: v.{name}() * v", 1,
                           lambda a, n=name: _apply(a, n) * a, domain)]
    if _defined(cls, "relu"):  # at the kink: any value between 0 and 1 is a subgradient
        found += [Case("relu", f"{where}: v.relu() * 3.0", 1,
                       lambda a: _apply(a, "relu") * 3.0, domain)
                  for where, domain in (("at its kink", "zero"), ("near its kink", "near zero"))]
    if _defined(cls, "__mul__") and _defined(cls, "__add__"):
        found.append(Case("backward", "a shared intermediate node: s = a * b; s * s + s", 2,
                          _shared))
    looked_for = list(BINARY) + list(REFLECTED) + ["__neg__", "__pow__"] + list(UNARY)
    missing = [n for n in looked_for if not _defined(cls, n)
               and not (n in REFLECTED and _defined(cls, n[:2] + n[3:]))]
    return found, missing, []


#: The steps a drawn chain is made of: binary operators with a leaf or a number, and the
#: unary methods that are defined everywhere and keep values moderate.
CHAIN_BINARY = {"__add__": "+", "__sub__": "-", "__mul__": "*"}
CHAIN_UNARY = ("tanh", "sigmoid", "relu")
#: The leaves' shape in a tensor engine's chains.
CHAIN_SHAPE = (2, 3)


def chain_steps(cls, numbers=True):
    """The strategy of a drawn chain's steps, from the operators ``cls`` defines (None when
    it defines too few): each step is ``(operator, operand)``; a Python number among the
    operands where the engine takes ``numbers``."""
    from hypothesis import strategies as st

    binary = [(name, symbol) for name, symbol in CHAIN_BINARY.items() if _defined(cls, name)]
    unary = [name for name in CHAIN_UNARY if _defined(cls, name)]
    if not binary:
        return None
    step = st.one_of(st.tuples(st.sampled_from([s for _, s in binary]),
                               st.sampled_from(["a", "b", "x"] + ["2.5"] * numbers)),
                     *([st.tuples(st.sampled_from(unary), st.just(""))] if unary else []))
    return st.lists(step, min_size=2, max_size=5)


def chain_case(steps, shape=None):
    """The Case of one drawn chain: ``x = a``, then each step on ``x``; the leaves ``a`` and
    ``b`` may be used many times, so that shared nodes and long paths are both met. With
    ``shape``, a TensorCase on two leaves of that shape."""
    statements, x = [], "a"
    for op, operand in steps:
        other = x if operand == "x" else operand  # x op x: the node so far, used twice
        expression = f"{x} {op} {other}" if operand else f"{x}.{op}()"
        statements.append(expression)
        x = "x"
    text = "; ".join([f"x = {e}" for e in statements[:-1]] + statements[-1:])

    def build(a, b):
        values = {"a": a, "b": b}
        x = a
        for op, operand in steps:
            if not operand:
                x = _apply(x, op)
                continue
            other = 2.5 if operand == "2.5" else x if operand == "x" else values[operand]
            x = {"+": lambda p, q: p + q, "-": lambda p, q: p - q,
                 "*": lambda p, q: p * q}[op](x, other)
        return x
    if shape is not None:
        return TensorCase("backward", f"a drawn chain: {text}", (shape, shape), build)
    return Case("backward", f"a drawn chain: {text}", 2, build)


def _shared(a, b):
    s = a * b
    return s * s + s


def code(case):
    """The case as Python statements on leaves ``a`` (and ``b``) that set ``out``."""
    if case.text:
        return f"out = {case.text}"
    text = case.pattern.split(": ", 1)[-1].replace(" over the last axis", "").replace("v", "a")
    *statements, expression = [part.strip() for part in text.split(";")]
    return "\n".join(statements + [f"out = {expression}"])


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
                "operators": {name: dataclasses.asdict(r) for name, r in self.results.items()}}

    def __str__(self):
        if self.verdict == "error":
            return f"{self.title}: cannot be checked: {self.error or 'no operator was found'}"
        rows = [(name, r.checked, len(r.failures), "not supported" if r.ok and not r.checked
                 else "pass" if r.ok else f"FAIL (through {r.through})" if r.through
                 else "FAIL")
                for name, r in self.results.items()]
        lines = [f"{self.title}: each operator's gradients vs central finite differences of "
                 "the same expression on floats (float64)"]
        lines += [f"  - {note}" for note in self.notes]
        lines.append(format_rows(("operator", "examples", "failed", "result"), rows))
        for name in self.failing:
            lines += [f"FAIL: {name} {message}" for message in self.results[name].failures[:3]]
        if self.missing:
            lines.append("not defined, so not checked: " + ", ".join(self.missing))
        if self.unchecked:
            lines.append("defined, but no expression of the check runs them: "
                         + ", ".join(self.unchecked))
        if self.failing:
            lines += ["", f"The smallest failing case of {self.failing[0]}, to run yourself:",
                      self.results[self.failing[0]].snippet, ""]
        lines.append(f"OK: all {len(self.results)} operators agree." if self.ok else
                     f"FAIL: {len(self.failing)} of {len(self.results)} operators disagree "
                     f"({', '.join(self.failing)})" + (
                         "; " + ", ".join(f"{n} fails through {r.through}"
                                          for n, r in self.results.items() if r.through)
                         if any(r.through for r in self.results.values()) else ""))
        return "\n".join(lines)

    def __repr__(self):
        return str(self)


def _values(domain):
    """Leaf values drawn by Hypothesis: magnitudes 0.2 to 2 of either sign (never 0: no
    division by zero), positive where the domain asks; exactly 0 at a kink."""
    from hypothesis import strategies as st

    positive = st.floats(0.2, 2.0)
    if domain == "zero":
        return st.just(0.0)
    if domain == "near zero":  # beside a kink, on either side
        return st.one_of(st.floats(1e-7, 1e-3), st.floats(-1e-3, -1e-7))
    return positive if domain == "positive" else st.one_of(positive, st.floats(-2.0, -0.2))


def check_engine(cls, *, examples: int = 10, seed: int = 0, rtol: float | None = None,
                 scale_tol: float | None = None, target: str | None = None) -> EngineReport:
    """Check a scalar or tensor engine's operators: ``cls(x)`` makes a leaf, ``.data`` and
    ``.grad`` are read, ``backward()`` is called on each expression's result (from a random
    upstream gradient for a tensor result).

    Each expression runs on ``examples`` leaf values drawn by Hypothesis (seeded by
    ``seed``); a failure is shrunk to the simplest failing values and printed as a
    snippet that runs (``target``: ``module:Class`` for its import line). Returns an
    :class:`EngineReport`; nothing is raised for a wrong engine.
    """
    from hypothesis import strategies as st
    from hypothesis.extra.numpy import arrays

    settings = Settings.of(rtol=rtol, scale_tol=scale_tol, seed=seed)
    tensor = is_tensor_engine(cls)
    try:
        invoke(_leaf, f"{cls.__name__}()", cls, np.ones((3, 4)) if tensor else 1.5)
    except UserCodeError as exc:
        return EngineReport(cls.__name__, {}, [], error=f"a leaf {cls.__name__}(x) could not "
                            f"be made from {'an array' if tensor else 'a float'}: {exc}")
    precision = _precision(cls, tensor)
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
    found += _function_cases(cls, tensor)
    functions = set(module_functions(cls))
    missing = [name for name in missing if name not in functions]
    rng = streams(seed)[1]
    run = _run_tensor if tensor else _run

    def leaves(case):
        if tensor:
            return st.tuples(*[arrays(np.float64, shape, elements=_values(case.domain))
                               for shape in case.shapes]).map(list)
        return st.lists(_values(case.domain), min_size=case.leaves, max_size=case.leaves)

    def attempt(result, case, values):
        """``(case, values, the failure or None)``, the result's counts and forms kept."""
        result.checked += 1
        try:
            return case, values, run(cls, case, values, settings, rng)
        except Unsupported as refused:
            result.checked -= 1
            result.unsupported[case.pattern] = str(refused)
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
    _numbers_unsupported(results)
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


#: The tolerance of a float32 engine: 64 ulps of float32, the rounding of a few operations
#: whose inputs are of order 1 (values 0.2 to 2).
FLOAT32_FLOOR = 64 * float(np.finfo(np.float32).eps)


def _precision(cls, tensor):
    """The dtype an engine computes in, when it is below float64 (else None)."""
    try:
        leaf = _leaf(cls, np.ones(2) if tensor else 1.5)
        dtype = np.asarray(_inside(leaf)).dtype
    except Exception:  # the checks will say what is wrong with the constructor
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
    tensor = isinstance(case, TensorCase)
    flag = ", requires_grad=True" if tensor and "requires_grad" in positional_parameters(
        cls)[1] else ""
    shown = [f"np.array({np.asarray(v).tolist()!r}){flag}" if tensor else repr(float(v))
             for v in values]
    lines = ["import numpy as np"] if tensor else []
    imports = [name] + ([case.operator.rsplit(".", 1)[1]] if "." in case.operator else [])
    backward = method_name(cls, "backward")
    if not tensor:
        backward = f"out.{backward}()"
    elif positional_parameters(getattr(cls, backward))[0][1:]:
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
        _backward(out)()
        first = float(np.ravel(_array(_grad(a)))[0])
        _backward(out)()
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


#: Methods of a node that are not operators: how backward is started, gradients reset,
#: values read.
NOT_OPERATORS = {*METHOD_NAMES["backward"], "zero_grad", "zero_grads", "item", "numpy",
                 "tolist", "detach", "parameters", "build_topo", "topo", "topological_sort"}
#: The dunders that are operators on nodes, mapped or not.
OPERATOR_DUNDERS = {*BINARY, *REFLECTED, "__neg__", "__pos__", "__abs__", "__pow__",
                    "__rpow__", "__matmul__", "__rmatmul__", "__getitem__", "__floordiv__",
                    "__mod__"}


def unmapped(cls, found):
    """The operators ``cls`` defines that no case of ``found`` runs: operator dunders and
    public methods (not static or class methods, not properties but ``T``), listed so
    that none is skipped in silence."""

    ran = {case.operator for case in found}
    aliases = {id(inspect.getattr_static(cls, n, None)) for n in ran}  # __matmul__ = matmul
    names = []
    for name in sorted({n for base in cls.__mro__ if base is not object for n in vars(base)}):
        attribute = inspect.getattr_static(cls, name)
        if name in ran or name in NOT_OPERATORS or id(attribute) in aliases \
                or (name == "transpose" and "T" in ran):
            continue
        if isinstance(attribute, (staticmethod, classmethod)):
            continue
        if name in OPERATOR_DUNDERS or (not name.startswith("_")
                                        and inspect.isfunction(attribute)):
            names.append(name)
    return names


def _numbers_unsupported(results):
    """A reflected operator (``__radd__``) that raises where the plain one takes no number
    either (``a + 2.5`` raises) is no missing operator: numbers are not operands."""
    for name, result in results.items():
        plain = results.get(name[:2] + name[3:]) if name in REFLECTED else None
        if result.refused and plain is not None and plain.unsupported:
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
    module = sys.modules.get(cls.__module__)
    for owner, value in sorted(vars(module).items()) if module is not None else ():
        if inspect.isclass(value) and value.__module__ == cls.__module__ \
                and callable(getattr(value, "zero_grad", None)):
            return f"{owner}.zero_grad()"
    return None


def _blame_the_primitives(results):
    """A failing operator built from another failing one fails through it."""
    for name, result in results.items():
        if result.ok or result.undefined:
            continue
        primitive = next((p for p in BUILT_FROM.get(name, ())
                          if p in results and not results[p].ok), None)
        if primitive is not None:
            result.through = primitive


def _run(cls, case, values, settings, rng):
    """Run one expression: None if its gradients agree, else the failure in words."""
    shown = ", ".join(f"{v:.6g}" for v in values)
    try:
        leaves = [invoke(_leaf, f"{cls.__name__}()", cls, float(v)) for v in values]
        out = case.build(*leaves)
        invoke(_backward(out), "backward")
        # None: no gradient reached the leaf (judged as 0, right where it is not used)
        yours = np.array([0.0 if _grad(leaf) is None else float(_grad(leaf))
                          for leaf in leaves])
    except UserCodeError as exc:
        return f"({case.pattern} at {shown}): {exc}"
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
    it takes ``v ** 2``, or a Python number as an operand (``a + 2.5``, and then ``2.5 + a``
    too): a limit of its design, not a wrong gradient."""


class LeftNumberRefused(Exception):
    """An expression with a Python number on the left (``2.5 - v``) that raised in its
    forward, ``__rsub__`` not defined (``undefined``) or refusing the number: the failure,
    in words."""

    def __init__(self, message, undefined):
        super().__init__(message)
        self.undefined = undefined


def _raised(cls, case, exc):
    """The words for an expression that raised outside the engine's backward: an operator
    missing (a reflected one named), or one that raised. A power other than 2 that raises
    is :class:`Unsupported`."""
    if case.number or case.operator == "__pow__" and not case.pattern.endswith("** 2"):
        raise Unsupported(one_line(exc))
    text = f"{case.pattern.split(': ')[-1]} raised {one_line(exc)}"
    if case.operator in REFLECTED:
        undefined = not _defined(cls, case.operator)
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


# --- tensor engines ----------------------------------------------------------------------------

#: Methods that tell a tensor engine from a scalar one.
TENSOR_METHODS = ("__matmul__", "sum", "mean", "reshape")
#: The names a matrix product goes by as a method, where ``__matmul__`` is not defined.
MATMUL_METHODS = ("matmul", "dot", "mm")


def is_tensor_engine(cls):
    """Whether ``cls`` is a tensor engine (it defines ``matmul``, ``sum``, ``mean`` or
    ``reshape``): leaves are arrays, results are arrays."""
    return any(_defined(cls, name) for name in TENSOR_METHODS + MATMUL_METHODS)


def _spelling(fn, *names):
    """The first of ``names`` that ``fn`` takes as a keyword (any, where it takes
    ``**kwargs``), else None."""
    parameters = positional_parameters(fn)[1]
    taken = [n for n in names if n in parameters]
    if taken:
        return taken[0]
    if any(p.kind == p.VAR_KEYWORD for p in parameters.values()):
        return names[0]
    return None


def _reduce(x, name, axis=None, keepdims=False):
    """``x.sum(axis, keepdims)`` (or ``mean``) on an array, or on an engine's tensor under
    its own spelling (``axis=``/``keepdims=`` or ``dim=``/``keepdim=``)."""
    if isinstance(x, np.ndarray):
        return getattr(np, name)(x, axis=axis, keepdims=keepdims)
    method = getattr(x, name)
    kwargs = {}
    if axis is not None:
        kwargs[_spelling(method, "axis", "dim")] = axis
    if keepdims:
        kwargs[_spelling(method, "keepdims", "keepdim")] = True
    return method(**kwargs)


def _reductions(cls, name):
    """The ``(axis, keepdims)`` forms of ``cls.name`` to run: all five where it takes an
    axis and keepdims, fewer where its signature does not (and the forms left out)."""
    method = getattr(cls, name)
    axis = _spelling(method, "axis", "dim") is not None
    keepdims = _spelling(method, "keepdims", "keepdim") is not None
    forms = [(None, False), (0, False), (1, False), (0, True), (1, True)]
    taken = [(ax, k) for ax, k in forms if (ax is None or axis) and (not k or keepdims)]
    left = ([] if axis else ["axis"]) + ([] if keepdims else ["keepdims"])
    return taken, left


def _transpose(x):
    """``x.T`` (a property, or a method ``T()``), else ``x.transpose()``."""
    if isinstance(x, np.ndarray):
        return x.T
    if hasattr(type(x), "T"):
        return x.T() if callable(x.T) else x.T
    return x.transpose()


def _matmul(x, y):
    """``x @ y``, or the engine's ``matmul``/``dot`` method where it has no ``@``."""
    if isinstance(x, np.ndarray) or _defined(type(x), "__matmul__"):
        return x @ y
    return getattr(x, next(n for n in MATMUL_METHODS if _defined(type(x), n)))(y)


def _reshape(x, shape):
    """``x.reshape(shape)``, or ``x.reshape(*shape)`` where it takes the sizes one by one."""
    if isinstance(x, np.ndarray):
        return x.reshape(shape)
    positional, parameters = positional_parameters(x.reshape)
    if any(p.kind == p.VAR_POSITIONAL for p in parameters.values()):
        return x.reshape(*shape)
    return x.reshape(shape)


@dataclasses.dataclass(frozen=True)
class TensorCase:
    """One tensor expression: the operator, its pattern, the leaves' shapes, the expression
    (on tensors and on arrays alike), the leaves' domain."""

    operator: str
    pattern: str
    shapes: tuple
    build: object
    domain: str = "any"
    number: bool = False
    #: The expression as code in the engine's own spelling (``a.sum(dim=1)``), where the
    #: pattern's (``a.sum(axis=1)``) is not.
    text: str = ""


#: The shape pairs each binary operator runs on: equal, broadcasting both ways, a row
#: against a matrix, a 0-d tensor against a matrix.
SHAPE_PAIRS = (((3, 4), (3, 4), ""), ((3, 1), (1, 4), "broadcasting (3,1) with (1,4): "),
               ((4,), (3, 4), "broadcasting (4,) with (3,4): "),
               ((), (3, 4), "broadcasting () with (3,4): "))
#: The matrix products run: matrix-matrix, vector-matrix, matrix-vector, vector-vector.
MATMUL_SHAPES = (((3, 4), (4, 2)), ((4,), (4, 2)), ((3, 4), (4,)), ((4,), (4,)))


def tensor_cases(cls):
    """The tensor expressions exercising what ``cls`` defines, the operators it lacks, and
    notes of the forms its signatures leave out."""
    found, notes = [], []
    for dunder, (form, fn) in BINARY.items():
        if _defined(cls, dunder):
            domain = "positive" if dunder == "__truediv__" else "any"
            for a, b, label in SHAPE_PAIRS:
                found.append(TensorCase(dunder, label + form, (a, b), fn, domain))
            found += [TensorCase(dunder, "with a node used twice: " + form.replace("b", "a"),
                                 ((3, 4),), lambda a, fn=fn: fn(a, a), domain),
                      TensorCase(dunder, form.replace("b", "2.5"), ((3, 4),),
                                 lambda a, fn=fn: fn(a, 2.5), domain, number=True)]
    for dunder, (form, fn) in REFLECTED.items():
        if _defined(cls, dunder[:2] + dunder[3:]):
            found.append(TensorCase(dunder, form.replace("v", "a"), ((3, 4),), fn,
                                    "positive" if dunder == "__rtruediv__" else "any"))
    matmul = "__matmul__" if _defined(cls, "__matmul__") else next(
        (n for n in MATMUL_METHODS if _defined(cls, n)), None)
    if matmul is not None:
        symbol = "a @ b" if matmul == "__matmul__" else f"a.{matmul}(b)"
        shapes = MATMUL_SHAPES if matmul == "__matmul__" else MATMUL_SHAPES[:1]
        for a, b in shapes:
            found.append(TensorCase(matmul, f"{a} @ {b}: {symbol}", (a, b), _matmul))
    for name in ("sum", "mean"):
        if _defined(cls, name):
            taken, left = _reductions(cls, name)
            method = getattr(cls, name)
            for axis, keepdims in taken:
                def spelt(axis_name, keepdims_name, axis=axis, keepdims=keepdims):
                    return f"a.{name}(" + ", ".join(
                        ([] if axis is None else [f"{axis_name}={axis}"])
                        + ([f"{keepdims_name}=True"] if keepdims else [])) + ")"
                found.append(TensorCase(name, spelt("axis", "keepdims"), ((3, 4),),
                                        lambda a, n=name, ax=axis, k=keepdims:
                                        _reduce(a, n, ax, k),
                                        text=spelt(_spelling(method, "axis", "dim"),
                                                   _spelling(method, "keepdims", "keepdim"))))
            if left:
                notes.append(f"{name} takes no {' and no '.join(left)}: only the forms it "
                             "takes are checked")
    if _defined(cls, "reshape"):
        sizes = any(p.kind == p.VAR_POSITIONAL
                    for p in positional_parameters(cls.reshape)[1].values())
        found.append(TensorCase("reshape", "a.reshape((4, 3))", ((3, 4),),
                                lambda a: _reshape(a, (4, 3)),
                                text="a.reshape(4, 3)" if sizes else ""))
    if _defined(cls, "T") or _defined(cls, "transpose"):
        name = "T" if _defined(cls, "T") else "transpose"
        method = name == "T" and callable(inspect.getattr_static(cls, "T"))
        found.append(TensorCase(name, "a.T" if name == "T" else "a.transpose()", ((3, 4),),
                                _transpose, text="a.T()" if method else ""))
    if _defined(cls, "__neg__"):
        found.append(TensorCase("__neg__", "-a", ((3, 4),), lambda a: -a))
    if _defined(cls, "__pow__"):
        for k in EXPONENTS:
            found.append(TensorCase("__pow__", f"a ** {k}", ((3, 4),), lambda a, k=k: a ** k,
                                    "positive" if k != int(k) or k < 0 else "any"))
    if _defined(cls, "relu"):  # every entry at the kink, where 0 to 1 are subgradients
        found.append(TensorCase("relu", "at its kink: a.relu() * 3.0", ((3, 4),),
                                lambda a: _apply_array(a, "relu") * 3.0, "zero"))
    for name, (_, domain) in UNARY.items():
        if _defined(cls, name):
            found += [TensorCase(name, f"a.{name}()", ((3, 4),),
                                 lambda a, n=name: _apply_array(a, n), domain),
                      TensorCase(name, f"with a node used twice: a.{name}() * a", ((3, 4),),
                                 lambda a, n=name: _apply_array(a, n) * a, domain)]
    if _defined(cls, "__mul__") and _defined(cls, "__add__"):
        found.append(TensorCase("backward", "a shared intermediate node: s = a * b; s * s + s",
                                ((3, 4), (3, 4)), _shared))
    looked_for = list(BINARY) + list(TENSOR_METHODS) + ["T", "__neg__", "__pow__"] + list(UNARY)
    missing = [n for n in looked_for if not _defined(cls, n)
               and not (n == "T" and _defined(cls, "transpose"))
               and not (n == "__matmul__" and matmul is not None)]
    return found, missing, notes


def _apply_array(x, name):
    if isinstance(x, np.ndarray):
        return np.vectorize(UNARY[name][0], otypes=[float])(x)
    return getattr(x, name)()


def _softmax_twin(x):
    shifted = np.exp(x - x.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def _last_axis(call):
    """``call()`` over the last axis, spelt as it takes it (``axis=``, ``dim=`` or none)."""
    parameters = positional_parameters(call)[1]
    for spelling in ("axis", "dim"):
        if spelling in parameters:
            return call(**{spelling: -1})
    return call()


def module_functions(cls):
    """``{name: function}``: the operators the engine's module gives as functions of a value
    (``relu(x)``, ``softmax(x, axis)``) where the class has no method of that name."""

    module = sys.modules.get(cls.__module__)
    if module is not None:
        namespace = vars(module)
    else:  # a module made at run time: the namespace its methods were defined in
        namespace = next((f.__globals__ for f in vars(cls).values() if inspect.isfunction(f)),
                         {})
    return {name: namespace[name] for name in list(UNARY) + ["softmax"]
            if inspect.isfunction(namespace.get(name)) and not _defined(cls, name)}


def _function_cases(cls, tensor):
    """Cases of the module's functions (and of a ``softmax`` method on tensors)."""
    found, prefix = [], cls.__module__.rsplit(".", 1)[-1]
    for name, fn in module_functions(cls).items():
        if name == "softmax":
            if tensor:
                found.append(TensorCase(f"{prefix}.softmax", "softmax(a) over the last axis",
                                        ((3, 4),), lambda a, fn=fn: _softmax_twin(a) if
                                        isinstance(a, np.ndarray) else
                                        _last_axis(functools.partial(fn, a))))
            continue
        twin, domain = UNARY[name]
        if tensor:
            found.append(TensorCase(f"{prefix}.{name}", f"{name}(a)", ((3, 4),),
                                    lambda a, n=name, fn=fn: _apply_array(a, n) if
                                    isinstance(a, np.ndarray) else fn(a), domain))
        else:
            found.append(Case(f"{prefix}.{name}", f"{name}(v)", 1,
                              lambda a, twin=twin, fn=fn: twin(a) if isinstance(a, float)
                              else fn(a), domain))
    if tensor and _defined(cls, "softmax"):
        found.append(TensorCase("softmax", "a.softmax() over the last axis", ((3, 4),),
                                lambda a: _softmax_twin(a) if isinstance(a, np.ndarray)
                                else _last_axis(a.softmax)))
    return found



#: Where an engine keeps a node's gradient, by the names it goes by.
GRAD_NAMES = ("grad", "gradient", "_grad")


def _grad(node):
    """The gradient of a node after ``backward()``: its ``grad`` (or ``gradient``)."""
    for name in GRAD_NAMES:
        if hasattr(node, name):
            return getattr(node, name)
    raise UserCodeError(f"{type(node).__name__} has no gradient attribute after backward() "
                        f"(looked for {', '.join(GRAD_NAMES)})")


def _leaf(cls, value):
    """A leaf: ``cls(value)`` from a float or an array, with ``requires_grad=True`` where
    the constructor takes it."""
    takes = "requires_grad" in positional_parameters(cls)[1]
    return cls(value, requires_grad=True) if takes else cls(value)


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


def _start_backward(cls, out, cotangent):
    """Backward from ``out`` with the upstream gradient ``cotangent``: ``backward()`` on a
    scalar result, ``backward(cotangent)`` where backward takes one, else
    ``(out * cotangent).sum().backward()``."""
    backward = _backward(out)
    takes = positional_parameters(backward)[0]
    if np.size(_array(out)) == 1:
        cotangent[...] = 1.0
        required = [p for p in takes or () if p.default is p.empty]
        return backward(np.ones_like(_array(out))) if required else backward()
    if takes:
        return backward(cotangent)
    return _backward((out * _leaf(cls, cotangent)).sum())()


def _run_tensor(cls, case, values, settings, rng):
    """Run one tensor expression: None if every leaf's gradient agrees, else the failure."""
    shapes = " and ".join(str(v.shape) for v in values)
    expected = case.build(*[v.copy() for v in values])
    cotangent = streams(settings.seed)[0].standard_normal(np.shape(expected))
    try:
        leaves = [invoke(_leaf, f"{cls.__name__}()", cls, v.copy()) for v in values]
        out = case.build(*leaves)
        wrong = _wrong_forward(out, expected, settings)
        if wrong:
            return f"({case.pattern}, shapes {shapes}): {wrong}"
        # the same entries in the result's own shape, where it keeps a size-1 axis
        invoke(_start_backward, "backward", cls, out,
               cotangent.reshape(np.shape(_array(out))))
        yours = [None if _grad(leaf) is None else _array(_grad(leaf)) for leaf in leaves]
    except UserCodeError as exc:
        hint = ": sum the gradient over the broadcast axes" if "broadcasting" in case.pattern \
            and "broadcast" in str(exc) else ""
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

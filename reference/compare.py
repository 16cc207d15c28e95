"""Comparing hand-written gradients with an oracle, and reporting the result.

JAX is imported only by the functions that use it, so that finite-difference
checks (:mod:`reference.check`) work without it.

An entry agrees when

    |actual - expected| <= rtol * |expected| + scale_tol * max|expected|

where the max runs over the whole expected array. The first term is
``numpy.testing.assert_allclose``'s relative rule; the second replaces its
fixed ``atol`` by one proportional to the array's largest entry, so that the
check means the same whatever the scale of the problem (an entry that is the
result of cancellation carries rounding error of the order of the array's
largest terms, not of its own size), and a relative error of 1e-6 in a
gradient of size 1e-6 fails just as one in a gradient of size 1 does.
Differences below the smallest normal float64 (2.2e-308) always agree: XLA
on the CPU flushes subnormal results to zero where NumPy keeps them (a
softmax probability of 7e-310 is 0 for JAX). Shapes must match exactly, with
no broadcasting of (1, n) against (n,). NaN never agrees with anything.
"""

import dataclasses
import functools

import numpy as np

#: float64 tolerances: float64 agreement is ~1e-13, a planted 1e-6 relative error fails.
RTOL = 1e-9
#: Tolerance relative to the largest |entry| of the expected array.
SCALE_TOL = 1e-12
#: Below this, differences are subnormal: JAX flushes them to zero, NumPy does not.
SUBNORMAL = float(np.finfo(np.float64).tiny)


def enable_x64():
    """Turn on ``jax_enable_x64``; call before any JAX array exists."""
    import jax

    jax.config.update("jax_enable_x64", True)


#: Environment variable naming the folder of JAX's compilation cache ("off": none).
CACHE_VARIABLE = "NNFS_REF_JAX_CACHE"


def compilation_cache_folder():
    """Where :func:`enable_compilation_cache` keeps JAX's compiled references: the folder
    ``$NNFS_REF_JAX_CACHE`` names, else ``nnfs-ref/jax`` in the user's cache folder
    (``$XDG_CACHE_HOME``, else ``~/.cache``); None when the variable says ``off``."""
    import os

    folder = os.environ.get(CACHE_VARIABLE)
    if folder is not None:
        return None if folder.strip().lower() in ("", "off", "0", "no") else folder
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "nnfs-ref", "jax")


def enable_compilation_cache():
    """Keep every compiled reference on disk (JAX's persistent compilation cache), so
    that a later run, or another process, loads it instead of compiling it again.

    The commands and the tests call this; :func:`reference.check.check_layer` and the
    other library functions leave the caller's JAX configuration alone. A folder that
    cannot be created means no cache, not an error. Returns the folder used, or None.
    """
    import os

    import jax

    folder = compilation_cache_folder()
    if folder is None:
        return None
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError:
        return None
    jax.config.update("jax_compilation_cache_dir", folder)
    # every compilation is worth keeping: each one here takes 30 to 300 ms
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return folder


#: XLA's flag for compiling without LLVM's optimization passes.
QUICK_COMPILE_FLAG = "--xla_backend_optimization_level=0"


def quick_compilation():
    """Have XLA compile without LLVM's optimization passes (``XLA_FLAGS``), unless the
    user's ``XLA_FLAGS`` already set the level.

    Each reference runs a few times on small arrays, so compiling is nearly all of its
    cost; this makes ``verify``'s first run about an eighth faster, and changes results
    only in their last bits, far inside the tolerances. It takes effect if called before
    JAX compiles anything in this process, and processes started later inherit it.
    Imports nothing.
    """
    import os

    flags = os.environ.get("XLA_FLAGS", "")
    if "xla_backend_optimization_level" not in flags:
        os.environ["XLA_FLAGS"] = f"{flags} {QUICK_COMPILE_FLAG}".strip()


def prepare_jax():
    """JAX as the commands and the tests run it: quick compilation (:func:`quick_compilation`,
    first, before anything is compiled), float64 (:func:`enable_x64`) and the compilation
    cache (:func:`enable_compilation_cache`). Returns the cache folder, or None.

    Also, at the process's exit, the objects JAX's tracing left behind go with the
    process, without a last garbage collection over them (``gc.freeze``): that halves
    the exit of a process that traced verify's references (0.17 s to 0.08 s).
    """
    import atexit
    import gc

    atexit.register(gc.freeze)
    quick_compilation()
    enable_x64()
    return enable_compilation_cache()


def process_pool(workers):
    """A pool of ``workers`` fresh processes, spawned (JAX does not survive a fork).
    Importing this module does not import JAX: a caller can start the pool first."""
    import concurrent.futures
    import multiprocessing

    return concurrent.futures.ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("spawn"))


def require_x64():
    """Raise unless JAX computes in float64 (else float64 tolerances are meaningless)."""
    import jax

    if not jax.config.jax_enable_x64:
        raise RuntimeError(
            "the reference must run in float64: call reference.enable_x64() "
            "(jax.config.update('jax_enable_x64', True)) before creating any array"
        )


# Rounding scales: where a result is a tiny difference of much larger terms, float64
# resolves it only to ~1e-16 of the terms, so the scale of ``compare`` is theirs.


def saturation_scales(dvalues):
    """Rounding scale of a saturating activation's backward pass: ``max|dvalues|``.

    Softmax: ``dinputs = s * (dvalues - dvalues . s)``; sigmoid:
    ``dinputs = dvalues * s * (1 - s)``. Where they saturate, an entry of
    ``dinputs`` comes from a difference of terms of size ``|dvalues|``
    (``1 - s`` for s ~ 1); float64 (manual's and JAX's alike) resolves it to
    ~1e-16 of ``max|dvalues|``, not of the entry itself.
    """
    return {"dinputs": float(np.abs(dvalues).max())}


def logits_scale(logits):
    """Rounding scale of the fused loss ``logsumexp(z) - z_y``: the size of the logits.

    Both terms are of size ``|z|``; for a confidently right sample the loss is
    their tiny difference, which float64 resolves to ~1e-16 of ``max|z|``
    (JAX's ``logsumexp(z) - z_y`` rounds there, manual's ``log(sum) - (z_y - max)``
    does not), not to ~1e-16 of the loss itself.
    """
    return float(np.abs(logits).max())


def fused_scale(logits):
    """Rounding scale of the fused gradient ``(s - onehot) / N``: ``1 / N``.

    For a confidently right sample ``s_y - 1`` is a tiny difference of terms
    of size 1, resolved to ~1e-16 / N; when every sample is confident, that is
    far more than 1e-12 of the array's largest entry.
    """
    return 1.0 / len(logits)


@dataclasses.dataclass(frozen=True)
class GradientCheck:
    """One compared array: shapes, worst errors and where the worst entry is."""

    name: str
    shape: tuple
    expected_shape: tuple
    max_abs: float
    max_rel: float
    worst_index: tuple | None
    ok: bool
    #: max over entries of |a - e| / allowance: <= 1 passes; the margin to failure.
    ratio: float = float("nan")
    #: The compared values at ``worst_index`` (NaN when shapes differ).
    actual_worst: float = float("nan")
    expected_worst: float = float("nan")

    def as_dict(self):
        d = dataclasses.asdict(self)
        d["shape"] = list(self.shape)
        d["expected_shape"] = list(self.expected_shape)
        d["worst_index"] = None if self.worst_index is None else list(self.worst_index)
        return d


def compare(name, actual, expected, rtol=RTOL, scale_tol=SCALE_TOL, scale=None, atol=0.0):
    """Compare ``actual`` with ``expected`` entry by entry.

    Parameters
    ----------
    name : str
        What is compared, e.g. ``"dweights"``.
    actual, expected : array_like, any shape
        Must have exactly the same shape.
    scale : float, optional
        The magnitude of the terms that the compared values are computed
        from, when it exceeds the values themselves (a saturated softmax's
        ``dinputs`` are differences of terms of size ``|dvalues|``, so
        float64 resolves them only to ~1e-16 of that). Default: max|expected|.
    atol : float or ndarray of ``expected``'s shape, default 0
        An absolute allowance added to each entry's (the noise of a finite
        difference, which depends on its step).

    Returns
    -------
    GradientCheck
        ``max_abs = max |a - e|``; ``max_rel = max |a - e| / |e|`` (inf where
        ``e == 0 != a``), both NaN when ``actual`` holds a NaN; ``ratio`` is
        the largest error divided by its allowance
        ``rtol * |e| + scale_tol * scale + atol + 2.2e-308`` (the check passes
        when it is <= 1), ``worst_index`` the entry where that happens and
        ``actual_worst``, ``expected_worst`` the two values there.
    """
    a = np.asarray(actual)
    e = np.asarray(expected)
    if a.shape != e.shape:
        return GradientCheck(name, a.shape, e.shape, float("nan"), float("nan"), None, False,
                             float("inf"))
    if a.size and np.array_equal(a, e):  # exact agreement (every "unchanged" row): no errors
        first = (0,) * a.ndim
        return GradientCheck(name, a.shape, e.shape, 0.0, 0.0, first, True, 0.0,
                             float(a[first]), float(e[first]))
    a = a.astype(np.float64)
    e = e.astype(np.float64)
    diff, allowed = _errors(a, e, rtol, scale_tol, scale, atol)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(diff == 0, 0.0, diff / allowed)
        rel = np.where(diff == 0, 0.0, np.where(np.isinf(diff), np.inf, diff / np.abs(e)))
    if a.size == 0:
        return GradientCheck(name, a.shape, e.shape, 0.0, 0.0, None, True, 0.0)
    worst = np.unravel_index(np.argmax(ratio), a.shape)
    nan = bool(np.isnan(a).any())
    return GradientCheck(
        name=name,
        shape=a.shape,
        expected_shape=e.shape,
        max_abs=float("nan") if nan else float(diff.max()),
        max_rel=float("nan") if nan else float(rel.max()),
        worst_index=tuple(int(i) for i in worst),
        ok=bool(np.all(diff <= allowed)),
        ratio=float(ratio.max()),
        actual_worst=float(a[worst]),
        expected_worst=float(e[worst]),
    )


def _errors(a, e, rtol, scale_tol, scale, atol):
    """``(|a - e|, allowance)`` per entry, by the rule above (float64 arrays of one shape)."""
    finite = np.abs(e[np.isfinite(e)])
    largest = finite.max() if finite.size else 0.0
    scale = largest if scale is None else max(scale, largest)
    with np.errstate(invalid="ignore"):
        diff = np.where(a == e, 0.0, np.abs(a - e))  # equal infinities agree
        diff = np.where(np.isnan(diff), np.inf, diff)
        # An infinite expected entry allows nothing but itself.
        allowed = np.where(np.isfinite(e),
                           rtol * np.abs(e) + scale_tol * scale + atol + SUBNORMAL, 0.0)
    return diff, allowed


def disagreeing(actual, expected, rtol=RTOL, scale_tol=SCALE_TOL, scale=None, atol=0.0):
    """The entries :func:`compare` fails, as a boolean array of their (common) shape."""
    diff, allowed = _errors(np.asarray(actual, dtype=np.float64),
                            np.asarray(expected, dtype=np.float64), rtol, scale_tol, scale, atol)
    return ~(diff <= allowed)


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


def format_rows(header, lines, right=()):
    """A fixed-width text table: ``header`` names, then one tuple of cells per line.

    The project's one table formatter (reports, verify, bench, mutants); the
    columns whose indices are in ``right`` are right-aligned (numbers).
    """
    widths = [max(len(str(x)) for x in col) for col in zip(header, *lines)]
    fmt = "  ".join(f"{{:>{w}}}" if i in right else f"{{:<{w}}}" for i, w in enumerate(widths))
    out = [fmt.format(*header), fmt.format(*("-" * w for w in widths))]
    out += [fmt.format(*(str(x) for x in line)) for line in lines]
    return "\n".join(out)


@functools.lru_cache(maxsize=None)
def vjp_of(fn):
    """Compiled ``(params, inputs, cotangent) -> (fn(params, inputs), (dparams, dinputs))``.

    ``jax.vjp`` of ``fn`` under ``jax.jit``, built once per ``fn`` (pass a
    module-level function, not a fresh lambda, so the compiled code is reused).
    """
    import jax

    @jax.jit
    def evaluate(params, inputs, cotangent):
        output, pullback = jax.vjp(fn, params, inputs)
        return output, pullback(cotangent)
    return evaluate


@functools.lru_cache(maxsize=None)
def elementwise_vjp_of(fn, length):
    """:func:`vjp_of` of an elementwise ``fn`` at arrays of any shape of at most ``length``
    entries, from one compiled program: the inputs, the cotangent and every parameter (each
    of the inputs' shape) are run flattened and padded with zeros to ``length``, and the
    results cut back to the inputs' shape.

    Elementwise: each entry of the output is a function of the same entry of the inputs
    and of the parameters alone (ReLU, sigmoid, the identity, a dropout mask), so the
    padding changes no entry of the results.
    """
    evaluate = vjp_of(fn)

    def at(params, inputs, cotangent):
        shape, size = np.shape(inputs), np.size(inputs)
        if size > length:
            raise ValueError(f"elementwise_vjp_of({fn.__name__}, {length}) takes at most "
                             f"{length} entries, got inputs of shape {shape}")

        def pad(x):
            return np.pad(np.ravel(x), (0, length - size))

        def cut(x):
            return np.asarray(x)[:size].reshape(shape)

        output, (dparams, dinputs) = evaluate({k: pad(v) for k, v in params.items()},
                                              pad(inputs), pad(cotangent))
        return cut(output), ({k: cut(v) for k, v in dparams.items()}, cut(dinputs))
    return at


@functools.lru_cache(maxsize=None)
def value_and_grad_of(fn, has_aux=False):
    """Compiled ``jax.value_and_grad(fn, has_aux=has_aux)`` (first argument), built once.

    With ``has_aux``, ``fn`` returns ``(value, aux)``: one compilation yields
    the value, the gradient and ``aux`` (compiling is most of an oracle's cost).
    """
    import jax

    return jax.jit(jax.value_and_grad(fn, has_aux=has_aux))


@functools.lru_cache(maxsize=None)
def jit_of(fn):
    """Compiled ``fn``, built once per ``fn`` (eager JAX compiles every op per shape)."""
    import jax

    return jax.jit(fn)


def check_vjp(layer, fn, params, inputs, cotangent, title=None, rtol=RTOL, scale_tol=SCALE_TOL,
              scales=None, atol=0.0, oracle=None):
    """Check a manual layer's forward and backward against ``jax.vjp`` of ``fn``.

    Parameters
    ----------
    layer : object with ``forward(inputs)`` / ``backward(dvalues)``
        Its parameters are overwritten with copies of ``params``.
    fn : callable ``fn(params, inputs) -> output``
        The JAX twin of ``layer``.
    params : dict of str -> ndarray
        E.g. ``{"weights": (n_in, n_out), "biases": (1, n_out)}``; ``{}`` for
        an activation.
    inputs : ndarray, shape (batch, n_in)
    cotangent : ndarray, shape of the output
        The upstream gradient dL/d(output): random, never all ones.
        Both ``inputs`` and ``cotangent`` must come back unchanged (rows
        ``inputs unchanged``, ``dvalues unchanged``); JAX is given copies.
    scales : dict of str -> float, optional
        ``scale`` for :func:`compare`, per row name (e.g. ``{"dinputs": ...}``).
    atol : float
        An absolute allowance added to every entry's (see :func:`compare`).
    oracle : callable, optional
        ``oracle(params, inputs, cotangent) -> (output, (dparams, dinputs))`` to call
        instead of ``vjp_of(fn)`` (e.g. :func:`elementwise_vjp_of`).

    Returns
    -------
    Report
        Rows ``output``, ``dinputs``, ``d<name>`` for every parameter, and
        the two ``unchanged`` rows.
    """
    require_x64()
    for name, value in params.items():
        setattr(layer, name, np.array(value))
    given = {"inputs": np.array(inputs), "dvalues": np.array(cotangent)}
    layer.forward(inputs)
    layer.backward(cotangent)
    untouched = unchanged_checks(given, {"inputs": inputs, "dvalues": cotangent})
    oracle = oracle or vjp_of(fn)
    output, (dparams, dinputs) = oracle(params, given["inputs"], given["dvalues"])
    scales = scales or {}
    actual = {"output": layer.output, "dinputs": layer.dinputs}
    actual.update({"d" + name: getattr(layer, "d" + name, None) for name in params})
    expected = {"output": output, "dinputs": dinputs}
    expected.update({"d" + name: value for name, value in dparams.items()})
    checks = [compare(name, actual[name], expected[name], rtol, scale_tol, scales.get(name),
                      atol) for name in actual]
    return Report(title or type(layer).__name__, checks + untouched)


def unchanged_checks(before, after):
    """Rows ``<name> unchanged``: a method must not write into the arrays it was given.

    ``before`` holds copies taken before the call, ``after`` the arrays themselves.
    """
    return [compare(f"{name} unchanged", after[name], before[name], 0.0, 0.0)
            for name in before]


def moved_entry(f, x):
    """``at(k, offset)``: ``f(x)`` with entry ``k`` of ``x`` moved by ``offset``.

    ``x`` is changed in place for the call and put back after it (also when ``f`` raises).
    """
    def at(k, offset):
        saved = x[k]
        x[k] = saved + offset
        try:
            return f(x)
        finally:
            x[k] = saved
    return at


def central_difference(f, x, h=1e-6, points=2):
    """Central finite-difference gradient of a scalar ``f`` at ``x`` (float64).

    ``h`` is a number or an array of per-entry steps; one entry moves at a time.

    - ``points=2``: ``(f(x + h) - f(x - h)) / 2h``, truncation error ~ ``h**2``.
    - ``points=4``: ``(8 (f(x + h) - f(x - h)) - (f(x + 2h) - f(x - 2h))) / 12h``,
      truncation error ~ ``h**4``, so a larger step (less rounding noise) serves.

    Rounding adds ~ ``eps |f| / h``: about 1e-9 relative for a smooth ``f`` of
    order 1 with ``points=2, h=1e-6``. Across a kink (ReLU at 0, a clip bound)
    any finite difference is meaningless. Returns an array of ``x``'s shape.
    """
    if points not in (2, 4):
        raise ValueError(f"points must be 2 or 4, got {points}")
    x = np.array(x, dtype=np.float64)
    steps = np.broadcast_to(np.asarray(h, dtype=np.float64), x.shape)
    grad = np.empty_like(x)
    at = moved_entry(f, x)
    for k in np.ndindex(x.shape):
        step = steps[k]
        near = at(k, step) - at(k, -step)
        if points == 2:
            grad[k] = near / (2 * step)
        else:
            grad[k] = (8 * near - (at(k, 2 * step) - at(k, -2 * step))) / (12 * step)
    return grad

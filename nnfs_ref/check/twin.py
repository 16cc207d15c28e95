"""A JAX twin as the oracle (``fn=``): JAX is imported only when one is given."""

import functools

import numpy as np

from nnfs_ref.check.compare import GradientCheck
from nnfs_ref.check.report import Finding


def enable_x64():
    """Turn on ``jax_enable_x64``; call before any JAX array exists."""
    import jax

    jax.config.update("jax_enable_x64", True)


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
def value_and_grad_of(fn, has_aux=False):
    """Compiled ``jax.value_and_grad(fn, has_aux=has_aux)`` (first argument), built once.

    With ``has_aux``, ``fn`` returns ``(value, aux)``: one compilation yields
    the value, the gradient and ``aux`` (compiling is most of an oracle's cost).
    """
    import jax

    return jax.jit(jax.value_and_grad(fn, has_aux=has_aux))


def twin_rows(actual, expected, settings, scales=None):
    """Rows comparing hand-written arrays with a twin's, and the findings of missing ones.

    ``actual``: name -> array, or None where the user's code never set it;
    ``expected``: name -> the twin's array; ``scales``: name -> the rounding scale
    of :func:`nnfs_ref.check.compare.compare`. The one comparison of a JAX twin,
    for ``check_layer(fn=)``, ``check_loss(fn=)`` and ``verify``'s ``check_vjp``.
    Returns ``(rows, findings)``.
    """
    rows, findings = [], {}
    for name, value in actual.items():
        if value is None:
            rows.append(GradientCheck.missing(name, np.shape(expected[name])))
            findings[name] = Finding(message=f"backward did not set {name}")
        else:
            rows.append(settings.compare(name, value, expected[name], (scales or {}).get(name)))
    return rows, findings

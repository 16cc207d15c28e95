"""A manual layer against ``jax.vjp`` of its twin, and the rounding scales of the
comparisons ``verify`` makes."""

import functools

import numpy as np

from nnfs_ref.check.compare import unchanged_checks
from nnfs_ref.check.report import Report
from nnfs_ref.check.settings import Settings
from nnfs_ref.check.twin import twin_rows, vjp_of
from reference.runtime import require_x64

#: verify's tolerances: float64 agreement is ~1e-13, a planted 1e-6 relative error fails.
VERIFY = Settings.of(twin=True)


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


def network_scales(params, inputs):
    """Rounding scales of the seed network's parameter gradients, ``{layer: {name: scale}}``.

    The fused gradient ``(s - onehot) / N`` rounds at ~1e-16 of :func:`fused_scale`
    (``1 / N``) whatever its size; going back, each gradient is a sum of products of
    that with ``|h|`` (dense2's weights), ``|W2|`` and ``|X|`` (dense1's), so its
    rounding is ~1e-16 of the same sums of absolute values: ``|h|.T @ U`` and
    ``|X|.T @ (U @ |W2|.T)`` with ``U`` the ``1 / N`` array (the ReLU mask only lowers
    them). When every sample is confidently right, every gradient is far below these.
    """
    w1, b1 = params["dense1"]["weights"], params["dense1"]["biases"]
    w2 = params["dense2"]["weights"]
    hidden = np.maximum(0.0, inputs @ w1 + b1)
    upstream = np.full((len(inputs), w2.shape[1]), fused_scale(inputs))
    back = upstream @ np.abs(w2).T
    return {"dense1": {"weights": float((np.abs(inputs).T @ back).max()),
                       "biases": float(back.sum(axis=0).max())},
            "dense2": {"weights": float((np.abs(hidden).T @ upstream).max()),
                       "biases": float(upstream.sum(axis=0).max())}}


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


def check_vjp(layer, fn, params, inputs, cotangent, settings=VERIFY, scales=None, title=None,
              oracle=None):
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
    settings : nnfs_ref.check.Settings
        The tolerances (default: verify's float64 ones).
    scales : dict of str -> float, optional
        ``scale`` for :func:`nnfs_ref.check.compare.compare`, per row name (e.g.
        ``{"dinputs": ...}``).
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
    actual = {"output": layer.output, "dinputs": getattr(layer, "dinputs", None)}
    actual.update({"d" + name: getattr(layer, "d" + name, None) for name in params})
    expected = {"output": output, "dinputs": dinputs}
    expected.update({"d" + name: value for name, value in dparams.items()})
    checks, _ = twin_rows(actual, expected, settings, scales)
    return Report(title or type(layer).__name__, checks + untouched)

"""Forward/backward function pairs in the style course assignments set (our own code).

``*_forward(...) -> (out, cache)`` and ``*_backward(dout, cache) -> gradients``;
losses ``*_loss(x, y) -> (loss, dx)``. Each is correct; :data:`BUGS` lists
one-line bugs planted in them.
"""

import numpy as np


def affine_forward(x, w, b):
    out = x.reshape(len(x), -1) @ w + b
    return out, (x, w)


def affine_backward(dout, cache):
    x, w = cache
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(len(x), -1).T @ dout
    db = dout.sum(axis=0)
    return dx, dw, db


def relu_forward(x):
    return np.maximum(0, x), x


def relu_backward(dout, cache):
    return dout * (cache > 0)


def dropout_forward(x, options):
    """Inverted dropout; ``options``: ``p`` (keep probability), ``mode``, ``seed``."""
    if options["mode"] != "train":
        return x, (None, options)
    rng = np.random.default_rng(options.get("seed"))
    mask = (rng.random(x.shape) < options["p"]) / options["p"]
    return x * mask, (mask, options)


def dropout_backward(dout, cache):
    mask, options = cache
    return dout if options["mode"] != "train" else dout * mask


def batchnorm_forward(x, gamma, beta, options):
    """Batch normalization in training mode: the batch's mean and variance."""
    eps = options.get("eps", 1e-5)
    mean = x.mean(axis=0)
    var = x.var(axis=0)
    inv_std = 1 / np.sqrt(var + eps)
    xhat = (x - mean) * inv_std
    return gamma * xhat + beta, (xhat, gamma, inv_std)


def batchnorm_backward(dout, cache):
    xhat, gamma, inv_std = cache
    n = len(dout)
    dbeta = dout.sum(axis=0)
    dgamma = (dout * xhat).sum(axis=0)
    dxhat = dout * gamma
    dx = inv_std / n * (n * dxhat - dxhat.sum(axis=0) - xhat * (dxhat * xhat).sum(axis=0))
    return dx, dgamma, dbeta


def softmax_loss(x, y):
    shifted = x - x.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    n = len(x)
    loss = -log_probs[np.arange(n), y].mean()
    dx = np.exp(log_probs)
    dx[np.arange(n), y] -= 1
    return loss, dx / n


def hinge_loss(x, y):
    """Multiclass hinge (SVM) loss, margin 1; the true class is not its own violator."""
    n = len(x)
    correct = x[np.arange(n), y][:, None]
    margins = np.maximum(0, x - correct + 1)
    margins[np.arange(n), y] = 0
    loss = margins.sum() / n
    violating = (margins > 0).astype(float)
    violating[np.arange(n), y] = -violating.sum(axis=1)
    return loss, violating / n


def lstm_like_forward(x, w):
    """Two outputs before the cache: ``h = tanh(x @ w)``, ``c = x @ w``."""
    z = x @ w
    h = np.tanh(z)
    return h, z, (x, w, h)


def lstm_like_backward(dh, dz, cache):
    x, w, h = cache
    local = dh * (1 - h ** 2) + dz
    dx = local @ w.T
    return {"dx": dx, "dw": x.T @ local}


def embedding_forward(x, W):
    """Word indices ``x`` (integers, not differentiated) looked up in ``W``."""
    return W[x], (x, W.shape)


def embedding_backward(dout, cache):
    x, shape = cache
    dW = np.zeros(shape)
    np.add.at(dW, x, dout)
    return dW


def masked_square_loss(x, y, mask):
    """``sum(mask * (x - y) ** 2) / sum(mask)``, the mask a boolean array passed through."""
    diff = np.where(mask, x - y, 0.0)
    count = max(int(mask.sum()), 1)
    return float(np.sum(diff ** 2) / count), 2 * diff / count


#: (function, the line as written, the line with the bug, the failing row, words the
#: message must hold).
BUGS = [
    ("batchnorm_backward",
     "dx = inv_std / n * (n * dxhat - dxhat.sum(axis=0) - xhat * (dxhat * xhat).sum(axis=0))",
     "dx = inv_std / n * (n * dxhat - xhat * (dxhat * xhat).sum(axis=0))", "dx", "disagree"),
    ("hinge_loss", "    margins[np.arange(n), y] = 0\n", "", "dx", "disagree"),
    ("affine_backward", "dw = x.reshape(len(x), -1).T @ dout",
     "dw = dout.T @ x.reshape(len(x), -1)", "dw", "(transposed)"),
    ("affine_backward", "db = dout.sum(axis=0)", "db = dout.mean(axis=0)", "db",
     "the batch size"),
    ("relu_backward", "return dout * (cache > 0)", "return dout * (cache < 0)", "dx",
     "disagree"),
    ("dropout_backward", "return dout if options[\"mode\"] != \"train\" else dout * mask",
     "return dout", "dx", "disagree"),
    ("softmax_loss", "return loss, dx / n", "return loss, dx", "dx", "the batch size"),
    ("lstm_like_backward", "dx = local @ w.T", "dx = (local - dz) @ w.T", "dx", "disagree"),
    ("masked_square_loss", "return float(np.sum(diff ** 2) / count), 2 * diff / count",
     "return float(np.sum(diff ** 2) / count), 2 * (x - y) / count", "dx", "disagree"),
]

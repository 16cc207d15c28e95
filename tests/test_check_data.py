"""nnfs_ref.check.data: a loss's random data of each kind, from real draws."""

import numpy as np
import pytest

from nnfs_ref.check import data


@pytest.mark.parametrize("kind", data.PREDICTIONS)
def test_predictions_of_each_kind(kind):
    raw = np.random.default_rng(0).normal(size=(5, 3)) * 10
    made = data.predictions_of(kind, raw)
    assert made.shape == raw.shape and made.dtype == np.float64
    if kind == "probabilities":
        assert np.all(made > 0)
        np.testing.assert_allclose(made.sum(axis=1), np.ones(5), rtol=1e-15)
    elif kind == "unit":
        assert np.all((made >= 0.01) & (made <= 0.99))  # away from a clip bound
    else:
        assert np.array_equal(made, raw)


def test_targets_of_each_kind():
    labels, bits = np.array([2, 0]), np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 0.0]])
    raw = np.full((2, 3), 0.5)
    assert data.targets_of("labels", labels, bits, None) is labels
    onehot = data.targets_of("onehot", labels, bits, None)
    assert onehot.shape == (2, 3) and onehot.dtype == np.float64
    assert np.array_equal(onehot, [[0, 0, 1], [1, 0, 0]])
    assert data.targets_of("binary", labels, bits, None) is bits
    assert data.targets_of("values", labels, bits, raw) is raw

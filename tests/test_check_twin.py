"""nnfs_ref.check.twin: a JAX twin as the oracle, one comparison for every front end."""

import numpy as np

from nnfs_ref import check_layer, check_loss
from nnfs_ref.check.settings import Settings
from nnfs_ref.check.twin import twin_rows
from reference import functions as F


def test_an_unset_array_is_a_failing_row_and_a_finding():
    rows, findings = twin_rows({"output": np.ones(3), "dinputs": None},
                               {"output": np.ones(3), "dinputs": np.zeros((2, 3))}, Settings())
    assert [(r.name, r.ok, r.shape, r.expected_shape) for r in rows] == [
        ("output", True, (3,), (3,)), ("dinputs", False, (), (2, 3))]
    assert findings["dinputs"].message == "backward did not set dinputs"


def test_scales_and_tolerances_come_from_the_caller():
    expected = {"d": np.array([1e-3, 1.0])}
    actual = {"d": np.array([1e-3 + 1e-13, 1.0])}
    assert not twin_rows(actual, expected, Settings(rtol=0.0, scale_tol=1e-14))[0][0].ok
    assert twin_rows(actual, expected, Settings(rtol=0.0, scale_tol=1e-14),
                     {"d": 100.0})[0][0].ok  # terms of size 100 round at 1e-14 of it


class ReturningDense:
    """Returns its output from forward and never sets .output."""

    def __init__(self, weights, biases):
        self.weights, self.biases = weights, biases

    def forward(self, inputs):
        self.inputs = inputs
        return inputs @ self.weights + self.biases

    def backward(self, dvalues):
        self.dweights = self.inputs.T @ dvalues
        self.dbiases = dvalues.sum(axis=0, keepdims=True)
        self.dinputs = dvalues @ self.weights.T


def test_a_twin_reads_the_output_forward_returned():
    rng = np.random.default_rng(2)
    layer = ReturningDense(rng.normal(size=(4, 3)), rng.normal(size=(1, 3)))
    report = check_layer(layer, rng.normal(size=(5, 4)), fn=F.dense)
    assert report.ok, str(report)
    assert [c.name for c in report.checks][:4] == ["output", "dinputs", "dweights", "dbiases"]


def test_a_twin_compares_an_unset_gradient_at_the_users_tolerances():
    class NoBiasGradient(ReturningDense):
        def backward(self, dvalues):
            super().backward(dvalues)
            del self.dbiases

    rng = np.random.default_rng(3)
    layer = NoBiasGradient(rng.normal(size=(4, 3)), rng.normal(size=(1, 3)))
    report = check_layer(layer, rng.normal(size=(5, 4)), fn=F.dense, rtol=1e-3)
    assert report.verdict == "fail"
    assert [c.name for c in report.failures] == ["dbiases"]
    assert "FAIL: backward did not set dbiases" in str(report)


def test_a_loss_twin_gives_the_loss_row_first():
    import manual

    rng = np.random.default_rng(4)
    y_pred, y = rng.dirichlet(np.ones(3), size=6), rng.integers(0, 3, size=6)
    report = check_loss(manual.Loss_CategoricalCrossentropy(), y_pred, y, fn=F.cce_loss)
    assert report.ok, str(report)
    assert [c.name for c in report.checks] == ["loss", "dinputs", "y_pred unchanged",
                                               "y_true unchanged"]

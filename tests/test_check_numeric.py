"""nnfs_ref.check.numeric: the noise measured, the ladder of steps, kinks told from near-kinks."""

import numpy as np
import pytest

from nnfs_ref import check_layer
from nnfs_ref.check import numeric


def test_one_sided_derivatives_bracket_a_kink_and_only_a_kink():
    def f(v):
        return float(np.sum(np.abs(v)))
    x = np.array([0.0, 2.0])
    noise = numeric.measure_noise(f, x, f(x), np.random.default_rng(0))
    estimate = numeric.entrywise(f, x, [(0,), (1,)], noise)
    assert estimate.kink.tolist() == [True, False]
    assert estimate.lower[0] == pytest.approx(-1) and estimate.upper[0] == pytest.approx(1)
    assert estimate.central[1] == pytest.approx(1, abs=estimate.error[1])
    assert estimate.error[1] < 1e-9


def test_the_noise_is_read_off_the_function_not_its_value():
    # sum(d * (X @ W)) - c with |X| ~ 100: a value near 0 made of large terms; the measured
    # noise is compared with the true rounding error of the float64 sums (exact fractions)
    from fractions import Fraction
    rng = np.random.default_rng(2)
    X, W, d = rng.normal(size=(8, 6)) * 100, rng.normal(size=(6, 4)), rng.normal(size=(8, 4))
    c = float(np.sum(d * (X @ W)))

    def f(w):
        return float(np.sum(d * (X @ w))) - c

    def exact(w):
        return sum(Fraction(d[i, j]) * Fraction(X[i, k]) * Fraction(w[k, j])
                   for i in range(8) for j in range(4) for k in range(6)) - Fraction(c)
    points = [W * (1 + 1e-6 * t) for t in range(1, 13)]
    errors = np.array([f(w) - float(exact(w)) for w in points])
    true_sigma = float(np.std(errors))
    noise = numeric.measure_noise(f, W, f(W), np.random.default_rng(0),
                                  float(np.sum(np.abs(d * (X @ W)))))
    assert true_sigma / 4 < noise.sigma < 4 * true_sigma, (noise.sigma, true_sigma)
    assert noise.delta > 100 * np.finfo(float).eps * abs(f(W))  # |f| alone would allow less
    assert not noise.lowered


def test_a_float32_forward_is_told_and_checked_at_steps_that_fit():
    from bench.stress import Float32Dense
    rng = np.random.default_rng(0)
    layer = Float32Dense(rng.normal(size=(4, 3)), np.zeros((1, 3)))
    report = check_layer(layer, rng.normal(size=(6, 4)))
    assert report.ok, str(report)
    assert "forward computes in a lower precision than float64" in str(report)


@pytest.mark.parametrize("scale", [1e-3, 1.0, 1e3])
def test_a_bias_is_differenced_exactly_at_any_scale(scale):
    from bench.stress import Dense
    rng = np.random.default_rng(1)
    x = rng.normal(size=(1, 4)) * scale
    layer = Dense(rng.normal(size=(4, 3)) * scale, np.zeros((1, 3)))
    report = check_layer(layer, x)
    assert report.ok, str(report)
    bound, expected = report.findings["dbiases"].bound, report.findings["dbiases"].expected
    assert bound.shape == expected.shape == (1, 3) and bound.dtype == np.float64
    tolerance = 1e-7 * (np.abs(expected) + np.abs(expected).max())
    assert np.all(bound <= tolerance)  # no truncation error, and rounding within it

    class Off(Dense):
        def backward(self, dvalues):
            super().backward(dvalues)
            self.dbiases = self.dbiases * (1 + 1e-6)
    bad = check_layer(Off(layer.weights, np.zeros((1, 3))), x)
    assert [c.name for c in bad.failures] == ["dbiases"], str(bad)


def test_a_kink_next_to_the_point_is_not_taken_for_one():
    x = np.array([[1e-9, 0.7, -1.2, 2.0]])

    class Leaky:
        def forward(self, inputs):
            self.inputs = inputs
            self.output = np.where(inputs > 0, inputs, 0.1 * inputs)

        def backward(self, dvalues):
            self.dinputs = np.where(self.inputs > 0, 1.0, 0.1) * dvalues

    class OtherSide(Leaky):
        def backward(self, dvalues):
            super().backward(dvalues)
            self.dinputs[0, 0] = 0.1 * dvalues[0, 0]  # the slope beyond the kink, 1e-9 away

    good = check_layer(Leaky(), x)
    assert good.ok and good.kinks == 0, str(good)
    bad = check_layer(OtherSide(), x)
    assert [c.name for c in bad.failures] == ["dinputs"], str(bad)
    assert bad.failures[0].worst_index == (0, 0)


def test_a_forward_that_returns_float32_is_checked_not_refused():
    from bench.stress import Dense

    class Cast32(Dense):
        def forward(self, inputs):
            super().forward(inputs)
            self.output = self.output.astype(np.float32)

    class Off(Cast32):
        def backward(self, dvalues):
            super().backward(dvalues)
            self.dweights = self.dweights * (1 + 1e-3)
    rng = np.random.default_rng(4)
    x, w, b = rng.normal(size=(5, 4)), rng.normal(size=(4, 3)), rng.normal(size=(1, 3))
    report = check_layer(Cast32(w, b), x)
    assert report.ok, str(report)
    assert "forward returns float32 for float64 inputs (a cast inside?)" in str(report)
    bad = check_layer(Off(w, b), x)
    assert [c.name for c in bad.failures] == ["dweights"], str(bad)

    class Rounds(Dense):
        def forward(self, inputs):
            super().forward(inputs)
            self.output = np.round(self.output).astype(np.int64)
    assert check_layer(Rounds(w, b), x).verdict == "cannot check"

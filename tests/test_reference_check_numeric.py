"""The finite-difference oracle: directions for large arrays, kinks, and the messages."""

import bookstyle as B
import numpy as np
import pytest

from reference import check_layer
from reference.check import numeric
from reference.check.report import diagnose
from reference.check.search import gradient_property, search

BIG = np.random.default_rng(5).normal(size=(32, 784))


class FlipOne(B.DenseW):
    def backward(self, dvalues):
        super().backward(dvalues)
        self.dW[3, 5] *= -1


def test_large_arrays_are_checked_along_directions():
    report = check_layer(B.DenseW(784, 64), BIG)
    assert report.ok, str(report)
    assert report.findings["dW"].mode.startswith("directions")
    assert report.findings["db"].mode == "entries"  # 64 entries: one by one
    assert "dW: checked along directions (3 random)" in str(report)


def test_one_wrong_entry_of_50176_is_caught_and_located():
    report = check_layer(FlipOne(784, 64), BIG)
    assert [c.name for c in report.failures] == ["dW"]
    check = report.failures[0]
    assert check.worst_index == (3, 5)
    assert check.actual_worst == pytest.approx(-check.expected_worst, rel=1e-6)
    assert "found by halving: (3, 5)" in str(report)


def test_entries_mode_and_directions_mode_agree_on_a_small_bug():
    x = np.random.default_rng(1).normal(size=(6, 5))
    for mode in ("entries", "directions"):
        assert check_layer(B.DenseW(5, 4), x, mode=mode).ok
        report = check_layer(FlipOne(5, 6), x, mode=mode)
        assert [c.name for c in report.failures] == ["dW"], (mode, str(report))


def test_a_relative_error_of_1e_minus_6_is_caught_along_directions():
    class Scaled(B.DenseW):
        def backward(self, dvalues):
            super().backward(dvalues)
            self.dW = self.dW * (1 + 1e-6)
    report = check_layer(Scaled(784, 64), BIG)
    assert [c.name for c in report.failures] == ["dW"]


def test_exact_zeros_in_a_large_input_are_kinks_checked_one_by_one():
    x = BIG[:4].copy()
    x[x < 0.3] = 0.0
    report = check_layer(B.Activation_ReLU(), x)
    assert report.ok, str(report)
    zeros = int((x == 0).sum())
    assert zeros > numeric.FALLBACK_LIMIT
    assert report.kinks == numeric.FALLBACK_LIMIT  # a sample of them, and the report says so
    assert f"{numeric.FALLBACK_LIMIT} sampled entries near 0 one by one" in str(report)

    class WrongAtZero(B.Activation_ReLU):
        def backward(self, dvalues):
            super().backward(dvalues)
            self.dinputs[self.inputs == 0] = 3 * dvalues[self.inputs == 0]
    assert [c.name for c in check_layer(WrongAtZero(), x).failures] == ["dinputs"]


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


@pytest.mark.parametrize("actual, expected, words", [
    (-np.arange(1.0, 7.0).reshape(2, 3), np.arange(1.0, 7.0).reshape(2, 3), "flipped sign"),
    (np.arange(1.0, 7.0).reshape(2, 3) * 8, np.arange(1.0, 7.0).reshape(2, 3),
     "yours = 8 x expected (the batch size 8"),
    (np.zeros((2, 3)), np.ones((2, 3)), "zero everywhere"),
    (np.arange(9.0).reshape(3, 3).T, np.arange(9.0).reshape(3, 3), "transposed"),
    (np.array([[1.0, np.nan]]), np.array([[1.0, 2.0]]), "1 of 2 entries are nan or inf"),
])
def test_diagnoses(actual, expected, words):
    assert words in diagnose(actual, expected, batch=8)


def test_nan_prints_as_nan():
    class NanBias(B.DenseW):
        def backward(self, dvalues):
            super().backward(dvalues)
            self.db = self.db * np.nan
    text = str(check_layer(NanBias(3, 2), np.ones((4, 3))))
    assert "db                 (1, 2)  nan          nan" in text
    assert "yours nan vs expected" in text


def test_search_finds_a_batch_of_one_bug_and_gradient_property_reports_it():
    class Squeezed(B.DenseW):
        def backward(self, dvalues):
            super().backward(dvalues)
            self.dinputs = self.dinputs.squeeze(axis=0) if len(dvalues) == 1 else self.dinputs
    found = search(Squeezed, examples=40)
    assert found.report is not None and found.exit_code == 1
    assert "inputs = np.array([[" in found.snippet
    with pytest.raises(AssertionError, match="dinputs has shape"):
        gradient_property(Squeezed, examples=40)()
    gradient_property(B.DenseW, examples=20)()  # a correct class passes
    gradient_property(B.Loss_MeanSquaredError, loss=True, data=("values", "values"),
                      examples=20)()

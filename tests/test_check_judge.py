"""nnfs_ref.check.judge: large arrays along random directions, a wrong entry located by halving,
entries near 0 and at kinks one by one."""

import bookstyle as B
import numpy as np
import pytest

from nnfs_ref import check_layer
from nnfs_ref.check import numeric

BIG = np.random.default_rng(5).normal(size=(32, 784))


class FlipOne(B.DenseW):
    def backward(self, dvalues):
        super().backward(dvalues)
        self.dW[3, 5] *= -1


def test_large_arrays_are_checked_along_directions():
    report = check_layer(B.DenseW(784, 64), BIG)
    assert report.ok, str(report)
    assert report.findings["dW"].method.directional
    assert report.findings["dW"].method.directions == 3
    assert report.findings["db"].method.kind == "entries"  # 64 entries: one by one
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

"""The comparison rule itself: it must fail on the errors it exists to catch."""

import numpy as np
import pytest

from nnfs_ref.check.compare import RTOL, SCALE_TOL, compare
from nnfs_ref.check.report import Report


@pytest.mark.parametrize("scale", [1e-6, 1e-3, 1.0, 1e3, 1e7])
def test_planted_relative_error_of_1e_minus_6_fails(scale):
    expected = np.random.default_rng(0).normal(size=(5, 4)) * scale
    actual = expected.copy()
    actual[3, 1] *= 1 + 1e-6
    check = compare("dweights", actual, expected)
    assert not check.ok
    assert check.worst_index == (3, 1)
    assert check.max_rel == pytest.approx(1e-6, rel=1e-6)
    assert check.ratio > 100  # not a near miss: two orders of magnitude over the tolerance


def test_float64_rounding_passes():
    expected = np.random.default_rng(1).normal(size=(6, 3))
    actual = expected * (1 + 4 * np.finfo(float).eps)
    check = compare("dinputs", actual, expected)
    assert check.ok and check.max_rel < 1e-14


def test_shapes_are_never_broadcast():
    check = compare("dbiases", np.ones(3), np.ones((1, 3)))
    assert not check.ok
    assert check.shape == (3,) and check.expected_shape == (1, 3)
    assert "!= expected (1, 3)" in str(Report("Layer_Dense", [check]))


def test_nan_and_infinities():
    assert not compare("x", [np.nan], [np.nan]).ok
    assert not compare("x", [np.nan], [1.0]).ok
    assert not compare("x", [np.inf], [1.0]).ok
    assert compare("x", [np.inf, -np.inf], [np.inf, -np.inf]).ok
    assert not compare("x", [np.inf], [-np.inf]).ok


def test_a_zero_entry_gets_the_array_scale_tolerance():
    assert compare("x", [SCALE_TOL / 2, 1.0], [0.0, 1.0]).ok
    assert not compare("x", [SCALE_TOL * 2, 1.0], [0.0, 1.0]).ok
    assert compare("x", [SCALE_TOL * 2, 1.0], [0.0, 1.0]).max_rel == np.inf
    assert compare("x", [0.0, 0.0], [0.0, 0.0]).ok
    assert not compare("x", [1e-30, 0.0], [0.0, 0.0]).ok  # all-zero expected: exact
    assert compare("x", [7e-310, 0.0], [0.0, 0.0]).ok  # ...but for subnormals (XLA flushes)


def test_the_rule_is_scale_invariant():
    rng = np.random.default_rng(2)
    expected = rng.normal(size=(4, 4))
    noisy = expected + 1e-14 * rng.normal(size=(4, 4))
    for scale in (1e-12, 1.0, 1e12):
        assert compare("x", noisy * scale, expected * scale).ok


def test_an_explicit_scale_widens_only_the_absolute_term():
    assert not compare("x", [1e-12 + 1e-17], [1e-12]).ok
    assert compare("x", [1e-12 + 1e-17], [1e-12], scale=0.1).ok
    assert not compare("x", [1e-12 * (1 + 1e-6)], [1e-12], scale=1e-12).ok


def test_defaults_are_float64_tight():
    assert RTOL <= 1e-8 and SCALE_TOL <= 1e-10


@pytest.mark.parametrize("actual, expected", [
    (np.array([[-2.0, np.inf], [0.0, 3.0]]), np.array([[-2.0, np.inf], [-0.0, 3.0]])),
    (np.array(1.5), np.array(1.5)),
    (np.array([[1, 2, 3]]), np.array([[1.0, 2.0, 3.0]])),
], ids=["with an infinity and -0", "0-d", "ints against floats"])
def test_equal_arrays_agree_exactly(actual, expected):
    # exact equality (every "unchanged" row) is reported as the rule gives it: no error,
    # the first entry as the worst
    first = (0,) * np.ndim(expected)
    check = compare("inputs unchanged", actual, expected, 0.0, 0.0)
    assert (check.ok, check.max_abs, check.max_rel, check.ratio) == (True, 0.0, 0.0, 0.0)
    assert check.worst_index == first
    assert (check.actual_worst, check.expected_worst) == (actual[first], expected[first])
    assert check.shape == check.expected_shape == np.shape(expected)


def test_equal_arrays_holding_nan_still_fail():
    nan = np.array([[1.0, np.nan]])
    check = compare("dinputs", nan, nan.copy())
    assert not check.ok and np.isnan(check.max_abs)


def test_report_table_names_failures():
    report = Report("Layer_Dense", [compare("dweights", [[1.0, 2.0]], [[1.0, 2.5]]),
                                    compare("dbiases", [[1.0]], [[1.0]])])
    assert not report.ok
    assert [c.name for c in report.failures] == ["dweights"]
    text = str(report)
    assert "FAIL" in text and "pass" in text and "(0, 1)" in text

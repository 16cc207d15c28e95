"""nnfs_ref.check.report: the diagnoses, the verdicts, the text and HTML forms."""

import bookstyle as B
import numpy as np
import pytest

from nnfs_ref import check_layer
from nnfs_ref.check.report import CheckReport, Hints, Method, assert_ok, diagnose, table_cells


@pytest.mark.parametrize("actual, expected, words", [
    (-np.arange(1.0, 7.0).reshape(2, 3), np.arange(1.0, 7.0).reshape(2, 3), "flipped sign"),
    (np.arange(1.0, 7.0).reshape(2, 3) * 8, np.arange(1.0, 7.0).reshape(2, 3),
     "yours = 8 x expected (the batch size 8"),
    (np.zeros((2, 3)), np.ones((2, 3)), "zero everywhere"),
    (np.arange(9.0).reshape(3, 3).T, np.arange(9.0).reshape(3, 3), "transposed"),
    (np.array([[1.0, np.nan]]), np.array([[1.0, 2.0]]), "1 of 2 entries are nan or inf"),
])
def test_diagnoses(actual, expected, words):
    assert words in diagnose(actual, expected, hints=Hints(batch=8))


@pytest.mark.parametrize("factor, numbers, words", [
    (2.0, (("temperature", 2.0),), "yours = 2 x expected (your temperature is 2: applied once "
                                   "too often, or not at all?)"),
    (0.2, (("p", 0.2),), "yours = 0.2 x expected (your p is 0.2"),
    (1.25, (("rate", 0.2),), "(1 - your rate, 0.2"),
    (2.0, (), "yours = 2 x expected"),  # the factor alone: nothing here is 2
])
def test_a_factor_is_tied_to_a_number_the_object_holds_or_stated_alone(factor, numbers, words):
    expected = np.arange(1.0, 7.0).reshape(2, 3)
    text = diagnose(expected * factor, expected, hints=Hints(batch=3, numbers=numbers))
    assert words in text
    if not numbers:
        assert text == "a constant factor: yours = 2 x expected"


@pytest.mark.parametrize("about, parameter, words", [
    ("biases", True, "the output does not depend on biases here (is it used by forward?)"),
    ("inputs", False, "the output does not depend on inputs here (a clip or a saturation?)"),
])
def test_a_flat_output_names_the_array_it_does_not_depend_on(about, parameter, words):
    text = diagnose(np.ones((1, 3)), np.zeros((1, 3)),
                    hints=Hints(about=about, parameter=parameter))
    assert text == f"expected zero everywhere: {words}, and yours is not zero"


def test_nan_prints_as_nan():
    class NanBias(B.DenseW):
        def backward(self, dvalues):
            super().backward(dvalues)
            self.db = self.db * np.nan
    report = check_layer(NanBias(3, 2), np.ones((4, 3)))
    row = next(r for r in report.rows() if r["name"] == "db")
    assert table_cells(row)[2:5] == ("(1, 2)", "nan", "nan")  # shape, max abs, max rel errors
    assert [c.name for c in report.failures] == ["db"]
    assert "yours nan vs expected" in report.failure_lines()[0]


@pytest.mark.parametrize("method, text, directional, sampling", [
    (Method(), "entries", False, False),
    (Method("directions", 3), "directions (3 random)", True, False),
    (Method("directions", 3, 5, True, 2),
     "directions (3 random) + 5 sampled entries near 0 one by one + 2 at kinks the directions "
     "crossed", True, True),
    (Method("directions", 3, then_sampled=True), "directions (3 random), then sampled entries",
     True, True),
    (Method("fallback", sampled=10, size=10), "entries (a direction crossed a kink)", False,
     False),
    (Method("fallback", sampled=4, size=10),
     "4 sampled entries of 10 (a direction crossed a kink)", False, True),
])
def test_the_method_is_a_field_and_its_words(method, text, directional, sampling):
    assert (str(method), method.directional, method.sampling) == (text, directional, sampling)


def test_a_report_that_could_not_run_says_why():
    report = CheckReport.failed("Dense", "an oracle", ["a note"], "error",
                                "your backward raised ValueError: no")
    assert (report.ok, report.verdict, report.exit_code, report.checks) == \
        (False, "error", 2, [])
    assert str(report).splitlines()[-1] == "ERROR: your backward raised ValueError: no"
    with pytest.raises(ValueError, match="verdict must be 'error' or 'cannot check'"):
        CheckReport.failed("Dense", "an oracle", [], "fail", "no")


def test_assert_ok_passes_an_ok_report_through_and_raises_with_the_table_otherwise():
    good = check_layer(B.DenseW(3, 2), np.ones((2, 3)))
    assert assert_ok(good) is good

    class Wrong(B.DenseW):
        def backward(self, dvalues):
            super().backward(dvalues)
            self.dW = self.dW * 2

    bad = check_layer(Wrong(3, 2), np.random.default_rng(0).normal(size=(2, 3)))
    with pytest.raises(AssertionError) as raised:
        assert_ok(bad)
    text = str(raised.value)
    assert text.startswith("FAIL: 1 of 5 checks disagree (dW)") and "max abs err" in text


def test_the_json_record_carries_the_method_as_words():
    record = check_layer(B.DenseW(3, 2), np.ones((2, 3))).as_dict()
    assert [(r["name"], r["mode"]) for r in record["rows"]][:2] == [("dinputs", "entries"),
                                                                    ("dW", "entries")]

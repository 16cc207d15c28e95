"""nnfs_ref.check.engine: an autograd engine checked operator by operator; each classic
engine bug of the mutation catalogue, planted in manual/engine.py, is caught and named
(the expressions themselves: test_check_expressions.py)."""

import re

import engine_styles as S
import numpy as np
import pytest
from helpers import planted

import manual.engine as E
from nnfs_ref import mutants
from nnfs_ref.check.engine import check_engine

#: The catalogue's engine mutants, by name.
ENGINE_MUTANTS = {m.name: m for m in mutants.CATALOG if m.target.startswith("manual.engine:")}
#: For each, the operators the report must blame and words it must hold.
NAMED = {
    "gradient assigned, not accumulated (= for +=): wrong for a node used twice":
        (["__mul__"], "the gradient is assigned, not accumulated"),
    "the power rule right for integer exponents only": (["__pow__"], "v ** 0.5"),
    "no reflected product (2.5 * v raises)": (["__rmul__"], "2.5 * v raised TypeError"),
    "tanh's derivative from its input, not its output": (["tanh"], "v.tanh()"),
    "sigmoid's derivative from its input, not its output": (["sigmoid"], "v.sigmoid()"),
    "the topological sort visits a shared node twice":
        (["backward"], "a node's gradient is propagated twice"),
    "a broadcast operand's gradient not summed back to its shape":
        (["__add__"], "sum the gradient over the broadcast axes"),
    "matmul: the right operand's gradient g.T @ a, reshaped to fit":
        (["__matmul__"], "leaf 1 grad disagrees"),
    "sum over an axis: the gradient not expanded back along it": (["sum"], "a.sum(axis=1)"),
    "mean over an axis divided by every entry, not the axis's":
        (["mean"], "(a.mean(axis=0), shapes (3, 4)): the forward is wrong"),
}


def test_a_correct_engine_passes_and_finds_every_operator():
    report = check_engine(E.Value)
    assert report.ok, str(report)
    assert report.failing == [] and report.missing == [] and report.unchecked == []
    assert {"__mul__", "__rsub__", "__pow__", "relu", "sigmoid", "backward"} <= set(
        report.results)
    assert str(report).splitlines()[-1] == f"OK: all {len(report.results)} operators agree."


def test_every_engine_mutant_of_the_catalogue_has_its_expected_verdict():
    assert sorted(NAMED) == sorted(ENGINE_MUTANTS)


@pytest.mark.parametrize("name", sorted(NAMED))
def test_each_classic_bug_is_caught_and_blamed_on_its_operator(name):
    mutant = ENGINE_MUTANTS[name]
    blamed, words = NAMED[name]
    engine = getattr(E, mutant.target.split(":")[1].split(".")[0])
    with mutants.planted(mutant):
        report = check_engine(engine)
    assert not report.ok, str(report)
    assert report.failing == blamed, str(report)
    assert words in str(report), str(report)


def test_the_worked_failure_of_the_docs_is_what_the_command_prints():
    import os

    from nnfs_ref import docs

    with open(os.path.join(docs.DOCS, "engines.md")) as fh:
        page = fh.read()
    printed = docs.engine_block(docs.DOCS)  # the page's engine, checked in a folder of its own
    block = f"{docs.BEGIN.format(name='engine')}\n{printed}\n{docs.END.format(name='engine')}"
    assert block in page
    assert printed.splitlines()[-2] == ("FAIL: 1 of 5 operators disagree (__mul__); backward "
                                        "fails through __mul__")


def test_a_correct_tensor_engine_passes():
    report = check_engine(E.Tensor)
    assert report.ok, str(report)
    assert {"__add__", "__matmul__", "sum", "mean"} <= set(report.results)
    assert report.results["backward"].checked >= 20  # the shared node, then drawn chains
    assert "a tensor engine" in report.notes[0]



class Float32Tensor(E.Tensor):
    """The tensor engine computing in float32."""

    def __init__(self, data, _children=(), requires_grad=False):
        super().__init__(data, _children, requires_grad)
        self.data = self.data.astype(np.float32)
        self.grad = np.zeros_like(self.data)


def test_a_float32_engine_is_checked_at_a_tolerance_that_fits_and_says_so():
    report = check_engine(Float32Tensor)
    assert report.ok, str(report)
    assert any("computes in float32" in note for note in report.notes)


def test_relu_at_its_kink_takes_any_subgradient():
    one_at_zero = planted(E, "self.grad += (out.data > 0) * out.grad",
                          "self.grad += (self.data >= 0) * out.grad").Value  # also valid
    assert check_engine(one_at_zero).ok
    two_at_zero = planted(E, "self.grad += (out.data > 0) * out.grad",
                          "self.grad += ((self.data > 0) + 2 * (self.data == 0)) * out.grad")
    report = check_engine(two_at_zero.Value)
    assert report.failing == ["relu"]
    assert "at its kink" in str(report)


def test_operators_given_as_module_functions_are_found_and_checked():
    report = check_engine(E.Tensor)
    assert {"engine.tanh", "engine.softmax"} <= set(report.results), str(report)
    assert report.ok, str(report)
    wrong = planted(E, "x.grad += s * (g - (g * s).sum(axis=axis, keepdims=True))",
                    "x.grad += s * g")
    report = check_engine(wrong.Tensor)
    assert report.failing == ["engine_mutant.softmax"], str(report)
    assert "softmax(a) over the last axis" in str(report)


def test_a_backward_by_another_name_is_found():
    backprop = planted(E, "    def backward(self):\n", "    def backprop(self):\n").Value
    report = check_engine(backprop)
    assert report.ok, str(report)


def test_an_engine_is_told_from_a_layer_and_a_number_type():
    import manual
    from nnfs_ref.check.engine import is_engine

    assert is_engine(E.Value) and is_engine(E.Tensor)
    assert is_engine(S.MinimalTensor)  # backprop(grad), and no forward beside it
    assert not is_engine(manual.Layer_Dense)  # backward(dvalues)
    assert not is_engine(complex)  # arithmetic, but no backward


def test_a_scalar_engine_runs_drawn_chains():
    report = check_engine(E.Value)
    assert report.results["backward"].checked >= 20  # the shared node, then drawn chains


def test_engines_in_the_styles_of_the_wild_pass_where_they_are_right():
    for name in ("RecursiveValue", "IntPowerValue", "TorchishTensor", "NodeGradTensor",
                 "MinimalTensor"):
        report = check_engine(getattr(S, name))
        assert report.ok, str(report)
    lecture = check_engine(S.LectureValue)
    assert lecture.failing == ["__rsub__", "__rtruediv__"], str(lecture)
    assert "__rsub__ is not defined (a number on the left needs the reflected operator)" \
        in str(lecture)
    assert lecture.missing == ["relu", "log", "sigmoid"]


def test_the_forms_a_signature_leaves_out_and_the_operators_not_run_are_said():
    minimal = check_engine(S.MinimalTensor)
    assert "sum takes no keepdims: only the forms it takes are checked" in minimal.notes
    assert "mean takes no axis and no keepdims: only the forms it takes are checked" \
        in minimal.notes
    assert minimal.unchecked == ["max"]
    assert "defined, but no expression of the check runs them: max" in str(minimal)
    assert {"dot", "T", "sum", "mean"} <= set(minimal.results)
    powers = check_engine(S.IntPowerValue)
    assert powers.results["__pow__"].checked == 20 and powers.results["__pow__"].ok  # 2, 3
    assert sorted(powers.results["__pow__"].unsupported) == ["v ** -1", "v ** 0.5"]
    assert any("v ** 0.5 raised in its forward (NotImplementedError" in n for n in powers.notes)
    torchish = check_engine(S.TorchishTensor)
    assert any("computes in float32" in note for note in torchish.notes)
    assert torchish.unchecked == []  # matmul is __matmul__ under another name


@pytest.mark.parametrize("style, old, new, blamed, words", S.BUGS,
                         ids=[f"{b[0]}:{b[3][0]}" for b in S.BUGS])
def test_a_classic_bug_in_each_style_is_caught_and_blamed(style, old, new, blamed, words):
    report = check_engine(getattr(planted(S, old, new), style))
    assert report.failing == blamed, str(report)
    assert words in str(report), str(report)


def test_a_second_backward_on_the_same_graph_is_described():
    notes = {name: check_engine(getattr(S, name)).notes[-1]
             for name in ("RecursiveValue", "TorchishTensor", "LectureValue", "MinimalTensor")}
    assert notes["RecursiveValue"].startswith("backward() twice without zeroing gives 2x")
    assert notes["TorchishTensor"].endswith("reset by zero_grad()")
    assert notes["LectureValue"].startswith("backward() twice on the same graph gives 3x")
    assert notes["MinimalTensor"].startswith("backward() twice on the same graph gives 4x")


@pytest.mark.parametrize("bug", [b for b in S.BUGS if b[3] in (["sum"], ["dot"])],
                         ids=lambda b: f"{b[0]}:{b[3][0]}")
def test_the_smallest_failing_case_of_a_tensor_engine_is_code_that_runs(bug, tmp_path):
    import inspect
    import subprocess
    import sys

    style, old, new, blamed, _ = bug
    source = inspect.getsource(S).split("\nBUGS = [")[0]
    (tmp_path / "buggy.py").write_text(source.replace(old, new))
    sys.path.insert(0, str(tmp_path))
    try:
        import buggy

        report = check_engine(getattr(buggy, style))
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("buggy", None)
    snippet = report.results[blamed[0]].snippet
    assert f"from buggy import {style}" in snippet
    done = subprocess.run([sys.executable, "-c", snippet], capture_output=True, text=True,
                          cwd=tmp_path)
    # the shrunk case runs as printed: to the gradients it prints, or to the error it shows
    assert done.returncode == 0 or "Error" in done.stderr.splitlines()[-1], done.stderr
    assert "Traceback" not in done.stderr or "buggy.py" in done.stderr


class TensorsOnly(S.TorchishTensor):
    """A tensor engine that takes no Python number as an operand, on either side."""

    @staticmethod
    def _t(x):
        if not isinstance(x, S.TorchishTensor):
            raise TypeError("tensors only")
        return x

    def __neg__(self):
        return S.TorchishTensor(-self.data, _parents=(self,), _fn=lambda g: (-g,))


def test_an_engine_that_takes_no_numbers_is_not_failed_for_it():
    report = check_engine(TensorsOnly)
    assert report.ok, str(report)
    refused = {name: sorted(r.unsupported) for name, r in report.results.items()
               if r.unsupported}
    assert refused == {"__add__": ["a + 2.5"], "__mul__": ["a * 2.5"], "__sub__": ["a - 2.5"],
                       "__truediv__": ["a / 2.5"], "__radd__": ["2.5 + a"],
                       "__rmul__": ["2.5 * a"], "__rsub__": ["2.5 - a"],
                       "__rtruediv__": ["2.5 / a"]}, str(report)
    assert report.results["__radd__"].checked == 0
    assert "not supported" in str(report)


def test_a_report_renders_in_a_notebook_with_its_failures_marked():
    mutant = ENGINE_MUTANTS["no reflected product (2.5 * v raises)"]
    with mutants.planted(mutant):
        report = check_engine(E.Value)
    page = report._repr_html_()
    assert '<tr style="background:#fdd;font-weight:bold"><td>__rmul__</td>' in page
    assert "<tr><td>__mul__</td>" in page
    assert "<pre>from manual.engine import Value\na = Value(1.0)\nout = 2.5 * a" in page
    assert page.splitlines()[-1] == (f'<p style="color:#a00"><b>{report.summary()}'
                                     "</b></p>")
    assert report.summary() == str(report).splitlines()[-1]


def test_a_gradient_left_in_the_broadcast_shape_is_named_with_both_shapes():
    kept = mutants.Mutant("the broadcast gradient kept whole", "manual.engine:Tensor.__add__",
                          "self.grad += _unbroadcast(out.grad, self.data.shape)",
                          "self.grad = self.grad + out.grad")
    with mutants.planted(kept):
        report = check_engine(E.Tensor)
    assert report.failing == ["__add__"], str(report)
    assert ("FAIL: __add__ (broadcasting (3,1) with (1,4): a + b, shapes (3, 1) and (1, 4)): "
            "leaf 0 grad has shape (3, 4), expected (3, 1): sum the gradient over the "
            "broadcast axes") in report.failure_lines()


def test_assert_engine_raises_with_the_report_unless_it_is_ok():
    from nnfs_ref import assert_engine

    assert assert_engine(E.Value).ok
    with mutants.planted(ENGINE_MUTANTS["tanh's derivative from its input, not its output"]):
        with pytest.raises(AssertionError, match=r"^FAIL: 1 of 16 operators disagree \(tanh\)"):
            assert_engine(E.Value)


@pytest.mark.parametrize("call, error, message", [
    (lambda: check_engine(E.Value(2.0)), TypeError,
     "check_engine takes the engine's class (such as Value), got a Value object"),
    (lambda: check_engine(E.Value, examples=0), ValueError,
     "examples must be a positive int, got 0"),
    (lambda: check_engine(E.Value, rtol=-1.0), ValueError, "rtol"),
])
def test_bad_arguments_are_named(call, error, message):
    with pytest.raises(error, match=re.escape(message)):
        call()


def test_a_class_that_cannot_be_checked_says_why():
    report = check_engine(complex)  # arithmetic, but no backward
    assert report.verdict == "error" and report.exit_code == 2
    assert str(report) == ("complex: cannot be checked: complex has no method backward() (its "
                           "methods: conjugate)")
    report = check_engine(type("Bare", (), {"backward": lambda self: None}))
    assert str(report) == ("Bare: cannot be checked: a leaf Bare(x) could not be made from a "
                           "float: the checker calls Bare(float), which Bare() cannot take")
    report = check_engine(type("Bare", (), {"__init__": lambda self, data: None,
                                            "backward": lambda self: None}))
    assert str(report) == "Bare: cannot be checked: no operator was found"


def test_an_operator_that_refuses_the_number_others_take_fails():
    unwrapped = mutants.Mutant("__mul__ without the wrap of a number",
                               "manual.engine:Value.__mul__",
                               "other = other if isinstance(other, Value) else Value(other)",
                               "pass")
    with mutants.planted(unwrapped):
        report = check_engine(E.Value)
    assert report.failing == ["__mul__"], str(report)  # relu's v.relu() * 3.0 fails through it
    assert report.failure_lines()[0] == (
        "FAIL: __mul__ (a * 2.5): a * 2.5 raised AttributeError: 'float' object has no "
        "attribute 'data', though __add__ takes a number")
    assert report.results["relu"].through == "__mul__"
    assert "out = a * 2.5" in report.results["__mul__"].snippet


class MatricesOnly(E.Tensor):
    """The tensor engine with a matrix product that refuses vectors in its forward."""

    def __matmul__(self, other):
        if self.data.ndim != 2 or other.data.ndim != 2:
            raise ValueError("2-D operands only")
        return E.Tensor.__matmul__(self, other)


def test_a_matrix_product_of_matrices_only_is_noted_or_failed_by_where_it_stops():
    refused = check_engine(MatricesOnly)
    assert refused.ok, str(refused)
    assert sorted(refused.results["__matmul__"].unsupported) == [
        "(3, 4) @ (4,): a @ b", "(4,) @ (4, 2): a @ b", "(4,) @ (4,): a @ b"]
    crashes = mutants.Mutant("a matrix-only backward", "manual.engine:Tensor.__matmul__",
                             "a = self.data.reshape(-1, self.data.shape[-1])\n"
                             "            b = other.data.reshape(other.data.shape[0], -1)\n"
                             "            g = out.grad.reshape(a.shape[0], b.shape[1])",
                             "a, b, g = self.data, other.data, out.grad")
    with mutants.planted(crashes):
        report = check_engine(E.Tensor)
    assert report.failing == ["__matmul__"], str(report)
    assert report.results["__matmul__"].failures[0].endswith(
        "a vector operand's gradient is that of a (1, k) row on the left, or a (k, 1) column "
        "on the right, reshaped back")


def test_a_power_whose_backward_takes_the_log_of_a_negative_base_is_told_why():
    logged = mutants.Mutant("the exponent's gradient taken too", "manual.engine:Value.__pow__",
                            "            self.grad += exponent * self.data ** (exponent - 1) "
                            "* out.grad",
                            "            self.grad += exponent * self.data ** (exponent - 1) "
                            "* out.grad\n            math.log(self.data)")
    with mutants.planted(logged):
        report = check_engine(E.Value)
    assert report.failing == ["__pow__"], str(report)
    assert report.failure_lines()[0] == (
        "FAIL: __pow__ (v ** 2 at -1): your backward raised ValueError: math domain error: "
        "the exponent's gradient, log(a) * a ** k, has no value at a negative a; a number "
        "exponent needs none")

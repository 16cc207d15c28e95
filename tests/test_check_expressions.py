"""nnfs_ref.check.expressions: the expressions found from what an engine defines, each the
same code on the engine's nodes and on floats or arrays, in the engine's own spelling."""

import math

import engine_styles as S
import numpy as np

import manual.engine as E
from nnfs_ref.check.expressions import (
    cases,
    chain_case,
    code,
    function_cases,
    module_functions,
    tensor_cases,
    unmapped,
)


def test_the_operators_of_a_scalar_engine_are_found_from_the_class():
    found, missing, notes = cases(E.Value)
    patterns = {(c.operator, c.pattern) for c in found}
    assert ("__mul__", "with a node used twice: a * a") in patterns
    assert ("__rsub__", "2.5 - v") in patterns and ("__pow__", "v ** 0.5") in patterns
    assert ("relu", "at its kink: v.relu() * 3.0") in patterns
    assert missing == [] and notes == []
    lecture_missing = cases(S.LectureValue)[1]
    assert "__rsub__" not in lecture_missing  # looked for (and run) where __sub__ is defined
    assert lecture_missing == ["relu", "log", "sigmoid"]


def test_a_drawn_chain_is_code_that_runs_and_the_same_expression_on_floats():
    case = chain_case([("*", "b"), ("tanh", ""), ("+", "x")])
    assert code(case) == "x = a * b\nx = x.tanh()\nout = x + x"
    assert case.build(0.5, 2.0) == 2 * math.tanh(1.0)
    a, b = E.Value(0.5), E.Value(2.0)
    namespace = {"a": a, "b": b}
    exec(code(case), namespace)
    assert namespace["out"].data == case.build(a, b).data
    tensor = chain_case([("-", "2.5")], (2, 3))
    assert tensor.shapes == ((2, 3), (2, 3))
    np.testing.assert_array_equal(tensor.build(np.ones((2, 3)), np.zeros((2, 3))),
                                  np.full((2, 3), -1.5))


def test_a_tensor_engine_is_run_in_the_forms_its_signatures_take():
    found, missing, notes = tensor_cases(S.MinimalTensor)
    sums = [c.pattern for c in found if c.operator == "sum"]
    assert sums == ["a.sum()", "a.sum(axis=0)", "a.sum(axis=1)"]
    assert [c.pattern for c in found if c.operator == "mean"] == ["a.mean()"]
    assert notes == ["sum takes no keepdims: only the forms it takes are checked",
                     "mean takes no axis and no keepdims: only the forms it takes are checked"]
    assert [c.pattern for c in found if c.operator == "dot"] == ["(3, 4) @ (4, 2): a.dot(b)"]
    assert "__matmul__" not in missing and "T" not in missing
    assert code(next(c for c in found if c.operator == "T")) == "out = a.T()"


def test_a_case_is_printed_in_the_engines_spelling_and_runs_alike_on_arrays():
    found = tensor_cases(S.TorchishTensor)[0]
    keep = next(c for c in found if c.pattern == "a.sum(axis=1, keepdims=True)")
    assert code(keep) == "out = a.sum(dim=1, keepdim=True)"
    x = np.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(keep.build(x), x.sum(axis=1, keepdims=True))
    yours = keep.build(S.TorchishTensor(x, dtype=np.float64))
    np.testing.assert_array_equal(yours.data, x.sum(axis=1, keepdims=True))
    reshape = next(c for c in found if c.operator == "reshape")
    assert code(reshape) == "out = a.reshape(4, 3)"  # reshape(*shape)
    assert {"broadcasting () with (3,4): a * b", "(4,) @ (4,): a @ b",
            "with a node used twice: a.tanh() * a", "2.5 / a"} <= {c.pattern for c in found}


def test_operators_defined_and_not_run_are_listed_and_aliases_are_not():
    found = tensor_cases(S.MinimalTensor)[0]
    assert unmapped(S.MinimalTensor, found) == ["max"]  # _collect is private: not listed
    torchish = tensor_cases(S.TorchishTensor)[0] + function_cases(S.TorchishTensor, True)
    assert unmapped(S.TorchishTensor, torchish) == []  # matmul is __matmul__, softmax run


def test_operators_given_as_functions_of_the_module_are_found():
    assert sorted(module_functions(E.Tensor)) == ["softmax", "tanh"]
    # Value has its own tanh; the module's softmax is run on tensor engines only
    assert sorted(module_functions(E.Value)) == ["softmax"]


def test_a_softmax_is_printed_over_the_last_axis_as_the_engine_spells_it():
    assert [code(c) for c in function_cases(E.Tensor, True)] == [
        "out = tanh(a)", "out = softmax(a, axis=-1)"]
    assert [code(c) for c in function_cases(S.TorchishTensor, True)] == [
        "out = a.softmax(dim=-1)"]

"""nnfs_ref.check.pairs: check_functions and check_loss_function on function pairs as course
assignments write them."""


import numpy as np
import pairs as P
import pytest
from helpers import planted

from nnfs_ref import check_functions, check_loss_function

RNG = np.random.default_rng(7)
X = RNG.normal(size=(6, 5))
W = RNG.normal(size=(5, 3))
B = RNG.normal(size=3)
Y = np.array([0, 2, 1, 1, 0, 2])


def cases(module):
    """``name -> (check, arguments)`` for every pair and loss of ``module``."""
    return {
        "affine": lambda: check_functions(module.affine_forward, module.affine_backward, X, W, B),
        "relu": lambda: check_functions(module.relu_forward, module.relu_backward, X),
        "dropout": lambda: check_functions(module.dropout_forward, module.dropout_backward, X,
                                           {"p": 0.5, "mode": "train", "seed": 0}),
        "batchnorm": lambda: check_functions(module.batchnorm_forward, module.batchnorm_backward,
                                             X, RNG.normal(size=5), RNG.normal(size=5),
                                             {"mode": "train", "eps": 1e-5}),
        "softmax_loss": lambda: check_loss_function(module.softmax_loss, X[:, :3], Y),
        "hinge_loss": lambda: check_loss_function(module.hinge_loss, X[:, :3], Y),
        "lstm_like": lambda: check_functions(module.lstm_like_forward, module.lstm_like_backward,
                                             X, W),
        "masked_square_loss": lambda: check_loss_function(
            module.masked_square_loss, X, X[::-1], np.arange(30).reshape(6, 5) % 3 > 0),
    }


@pytest.mark.parametrize("name", list(cases(P)))
def test_correct_pairs_pass(name):
    report = cases(P)[name]()
    assert report.verdict == "ok", str(report)


def test_rows_are_named_after_the_arguments_and_options_pass_through():
    report = cases(P)["batchnorm"]()
    assert [c.name for c in report.checks] == ["dx", "dgamma", "dbeta", "x unchanged",
                                               "gamma unchanged", "beta unchanged",
                                               "dout unchanged"]
    assert "not differentiated (not float arrays): options" in report.notes


@pytest.mark.parametrize("function, old, new, row, words", P.BUGS,
                         ids=[f"{b[0]}:{b[3]}:{i}" for i, b in enumerate(P.BUGS)])
def test_one_line_bugs_are_caught_and_named(function, old, new, row, words):
    module = planted(P, old, new)
    name = function.replace("_backward", "").replace("_forward", "")
    report = cases(module)[name]()
    assert report.verdict == "fail", str(report)
    assert [c.name for c in report.failures] == [row], str(report)
    assert words in str(report), str(report)


def test_wrong_number_of_gradients_is_one_line():
    def two(dout, cache):
        return P.affine_backward(dout, cache)[:2]

    def four(dout, cache):
        return P.affine_backward(dout, cache) + (None,)
    report = check_functions(P.affine_forward, two, X, W, B)
    assert report.summary() == ("ERROR: your backward two returned 2 gradient(s) for 3 float "
                                "arguments (x, w, b): missing db")
    report = check_functions(P.affine_forward, four, X, W, B)
    assert "4 gradients for 3 float arguments (x, w, b): 1 extra" in report.summary()


def test_a_missing_gradient_is_named():
    def none_db(dout, cache):
        dx, dw, _ = P.affine_backward(dout, cache)
        return dx, dw, None
    report = check_functions(P.affine_forward, none_db, X, W, B)
    assert "FAIL: backward did not set db" in str(report)


def test_global_random_state_is_pinned():
    def dropout_global(x, p):
        mask = (np.random.rand(*x.shape) < p) / p
        return x * mask, mask

    def dropout_global_backward(dout, mask):
        return dout * mask
    report = check_functions(dropout_global, dropout_global_backward, X, 0.5)
    assert report.ok, str(report)
    assert any("replayed" in n for n in report.notes)


def test_forward_must_return_out_and_cache():
    report = check_functions(lambda x: x * 2, lambda dout, cache: dout, X)
    assert report.verdict == "error"
    assert "expected (out, cache)" in report.error


def test_a_loss_that_raises_is_one_line():
    def broken(x, y):
        raise IndexError("index 3 is out of bounds")
    report = check_loss_function(broken, X, Y)
    assert report.summary() == "ERROR: your loss broken raised IndexError: index 3 is out of bounds"


def test_reports_render_as_html_with_failures_marked():
    good = cases(P)["affine"]()._repr_html_()
    assert "<table>" in good and "FAIL" not in good and "OK: all 7 checks agree." in good
    bad = cases(planted(P, *P.BUGS[2][1:3]))["affine"]()._repr_html_()
    assert 'style="background:#fdd;font-weight:bold"><td>affine_forward / affine_backward</td>' \
        '<td>dw</td>' in bad
    assert "FAIL: dw has shape (3, 5), expected (5, 3) (transposed)" in bad


def test_function_pairs_from_the_command_line(tmp_path):
    import os
    import shutil
    import subprocess
    import sys

    here = os.path.dirname(os.path.abspath(__file__))
    shutil.copy(os.path.join(here, "pairs.py"), tmp_path / "pairs.py")
    env = {**os.environ, "PYTHONPATH": os.path.dirname(here)}

    def run(*argv):
        return subprocess.run([sys.executable, "-m", "nnfs_ref.cli", "check", *argv],
                              capture_output=True, text=True, cwd=tmp_path, env=env)
    done = run("pairs:affine_forward,affine_backward", "--shape", "4,5", "--shape", "5,3",
               "--shape", "3")
    assert done.returncode == 0 and "OK: all 7 checks agree." in done.stdout, done.stderr
    done = run("pairs:dropout_forward,dropout_backward", "--shape", "4,5", "--args",
               '[{"p": 0.5, "mode": "train", "seed": 0}]')
    assert done.returncode == 0, done.stdout + done.stderr
    done = run("pairs:masked_square_loss", "--predictions", "values", "--targets", "values",
               "--shape", "6,4", "--shape", "bool:6,4")  # the mask after the targets
    assert done.returncode == 0, done.stdout + done.stderr
    assert "then bool (6, 4)" in done.stdout
    done = run("pairs:masked_square_loss", "--shape", "6,4")  # no mask: the checker's call
    assert done.returncode == 2
    assert "the checker calls masked_square_loss(array, ndarray)" not in done.stderr
    assert "the checker calls masked_square_loss(array, array), which " \
           "masked_square_loss(x, y, mask) cannot take" in done.stderr, done.stderr
    done = run("./pairs.py:hinge_loss", "--shape", "6,4")
    assert done.returncode == 0 and "random scores of shape (6, 4), labels targets" in done.stdout
    (tmp_path / "bad.py").write_text(
        "from pairs import *\n"
        "def bad_backward(dout, cache):\n"
        "    dx, dw, db = affine_backward(dout, cache)\n"
        "    return dx, dw * 2, db\n")
    done = run("bad:affine_forward,bad_backward", "--shape", "4,5", "--shape", "5,3",
               "--shape", "3")
    assert done.returncode == 1 and "yours = 2 x expected" in done.stdout
    done = run("pairs:affine_forward,affine_backward")
    assert done.returncode == 2 and "give --shape for each array argument" in done.stderr
    done = run("pairs:embedding_forward,embedding_backward", "--shape", "int:4,6:7",
               "--shape", "7,3")  # word indices in [0, 7), then the embedding matrix
    assert done.returncode == 0 and "OK: all 3 checks agree." in done.stdout, done.stderr
    assert "random arrays int64 (4, 6), float64 (7, 3)" in done.stdout
    assert "not differentiated (not float arrays): x" in done.stdout
    done = run("pairs:embedding_forward,embedding_backward", "--shape", "int:4,6:0",
               "--shape", "7,3")
    assert done.returncode == 2 and "int:SIZES:HIGH takes a positive HIGH" in done.stderr


def test_two_outputs_each_get_an_upstream_gradient_and_a_dict_of_gradients_is_read_by_name():
    report = cases(P)["lstm_like"]()
    assert report.ok, str(report)
    assert [c.name for c in report.checks] == ["dx", "dw", "x unchanged", "w unchanged",
                                               "dout1 unchanged", "dout2 unchanged"]
    assert ("forward returned 2 outputs and a cache: backward given an upstream gradient for "
            "each, in order") in report.notes


def test_a_loss_function_passes_a_mask_through():
    report = cases(P)["masked_square_loss"]()
    assert report.ok, str(report)
    assert "passed through, not differentiated: 1 more argument(s)" in report.notes

"""What a user meets once it is installed: reproducible checks, errors on stderr, commands
that need a checkout saying so, a report that shows itself, quiet quick checks."""

import os
import subprocess
import sys

import bookstyle as B
import numpy as np
import pytest

from nnfs_ref import assert_layer_gradients, check_layer

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def nnfs_ref(*argv, cwd=HERE):
    return subprocess.run([sys.executable, "-m", "nnfs_ref", *argv], capture_output=True,
                          text=True, cwd=cwd, env={**os.environ, "PYTHONPATH": ROOT})


def test_the_same_seed_gives_the_same_report_and_another_seed_another():
    first, again, other = (nnfs_ref("check", "bookstyle:Layer_Dense", "--args", "[4, 3]",
                                    "--seed", seed) for seed in ("5", "5", "6"))
    assert first.returncode == again.returncode == other.returncode == 0, first.stderr
    assert first.stdout == again.stdout
    assert first.stdout != other.stdout


def test_an_error_in_user_code_goes_to_stderr(tmp_path):
    (tmp_path / "raising.py").write_text(
        "class Dense:\n"
        "    def forward(self, inputs):\n        self.output = inputs\n"
        "    def backward(self, dvalues):\n        raise ValueError('not yet')\n")
    done = nnfs_ref("check", "raising:Dense", cwd=tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip() == ("nnfs-ref check: error: your backward raised ValueError: "
                                   "not yet")


@pytest.mark.parametrize("command", ["mutants", "docs"])
def test_commands_that_need_a_checkout_say_so_outside_one(command, monkeypatch, capsys):
    from nnfs_ref import cli, docs, mutants

    monkeypatch.setattr(mutants, "DEFAULT_TESTS", "/no/such/site-packages/tests")
    monkeypatch.setattr(docs, "DOCS", "/no/such/site-packages/docs")
    assert cli.main([command]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "needs a checkout of the repository" in err


def test_a_report_shows_itself_and_an_assertion_leads_with_the_verdict():
    x = np.random.default_rng(0).normal(size=(3, 4))
    report = check_layer(B.DenseW(4, 2), x)
    assert repr(report) == str(report)

    class Halved(B.DenseW):
        def backward(self, dvalues):
            super().backward(dvalues)
            self.dW = self.dW / 2
    with pytest.raises(AssertionError) as info:
        assert_layer_gradients(Halved(4, 2), x)
    assert str(info.value).startswith("FAIL: 1 of 5 checks disagree (dW)\n")


def test_a_quick_check_shows_no_bar_and_warns_nothing(monkeypatch):
    import warnings

    from nnfs_ref.check.report import progress
    monkeypatch.setitem(sys.modules, "ipykernel", sys)  # as in a notebook
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with progress(10, "entries") as bar:
            bar.update()
        assert progress(0, "entries").disable

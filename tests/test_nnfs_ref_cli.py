"""Every subcommand answers bad input with one line on stderr and exit 2, before any work.

Each row runs ``nnfs-ref`` in a subprocess, as a user would: the line must name
the option and the value, nothing may reach stdout (no work was started), and
no traceback may show.
"""

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MISSING = os.path.join(os.sep, "no", "such", "folder")

ROWS = [
    # (argv, fragments the one line must hold)
    ([], ["the following arguments are required"]),
    (["frobnicate"], ["invalid choice: 'frobnicate'"]),
    (["verify", "--seed", "-1"], ["--seed", "expected a non-negative integer, got -1"]),
    (["verify", "--examples", "0"], ["--examples", "expected a positive integer, got 0"]),
    (["verify", "--examples", "x"], ["--examples", "got 'x'"]),
    (["verify", "--rtol", "-1"], ["--rtol", "got -1"]),
    (["verify", "--jobs", "0"], ["--jobs", "got 0"]),
    (["verify", "--scale-tol", "inf"], ["--scale-tol", "finite", "got inf"]),
    (["verify", "--rtol", "nan"], ["--rtol", "got nan"]),
    (["verify", "--json", f"{MISSING}/rows.json"], ["--json", f"the folder {MISSING}"]),
    (["verify", "--bogus"], ["unrecognized arguments: --bogus"]),
    (["check", "no_such_module_here:Layer"], ["cannot import 'no_such_module_here'"]),
    (["check", "./no_such_file.py:Layer"], ["no_such_file.py"]),
    (["check", "manual:Layer_Dense", "--json", f"{MISSING}/r.json"], ["--json", MISSING]),
    (["check", "manual:Layer_Dense", "--seed", "-3"], ["--seed", "got -3"]),
    (["check", "manual:Layer_Dense", "--args", "[4, 3"], ["--args", "[4, 3"]),
    (["check", "manual:Layer_Dense", "--args", "[3, 2]", "--shape", "4,3", "--shape", "5,3"],
     ["--shape given 2 times (4,3 5,3)", "a class takes one"]),
    (["check", "tests/pairs.py:softmax_loss", "--shape", "4,3", "--shape", "5,3"],
     ["the checker calls softmax_loss(array, array, array), which softmax_loss(x, y) cannot "
      "take"]),
    (["train", "--epochs", "0"], ["--epochs must be >= 1, got 0"]),
    (["train", "--hidden", "100000000"], ["--hidden 100000000 needs about", "GiB"]),
    (["train", "--learning-rate", "inf"], ["--learning-rate", "got inf"]),
    (["train", "--optimizer", "adam", "--momentum", "0.5"],
     ["--momentum applies to --optimizer sgd, not adam"]),
    (["train", "--plot", "curves.txt"], ["--plot", "curves.txt", "cannot write '.txt'"]),
    (["train", "--save", f"{MISSING}/model"], ["--save", f"the folder {MISSING}"]),
    (["train", "--load", f"{MISSING}/model.npz"], ["--load", "no such file"]),
    (["train", "--blas-threads", "0"], ["--blas-threads must be >= 1, got 0"]),
    (["bench", "--json", f"{MISSING}/b.json"], ["--json", f"the folder {MISSING}"]),
    (["bench", "--plot", "chart.doc"], ["--plot", "cannot write '.doc'"]),
    (["bench", "--samples", "0"], ["--samples", "got 0"]),
    (["bench", "--target-seconds", "inf"], ["--target-seconds", "got inf"]),
    (["mutants", "--json", f"{MISSING}/m.json"], ["--json", f"the folder {MISSING}"]),
    (["mutants", "--tests", f"{MISSING}/tests"], ["--tests", "no such file or folder"]),
    (["mutants", "--jobs", "0"], ["--jobs", "got 0"]),
    (["docs", "nonsense"], ["nonsense"]),
]


@pytest.mark.parametrize("argv, fragments", ROWS, ids=[" ".join(r[0]) or "(none)" for r in ROWS])
def test_bad_input_is_one_line_and_exit_2(argv, fragments):
    result = subprocess.run([sys.executable, "-m", "nnfs_ref.cli", *argv], capture_output=True,
                            text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("nnfs-ref") and "error:" in lines[0]
    assert "---" not in lines[0] and "Traceback" not in lines[0]  # flags spelled once
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def _broken_docs(args):
    raise RuntimeError("planted")


def test_an_unexpected_error_is_one_line_exit_3_and_debug_shows_the_traceback(
        monkeypatch, capsys):
    from nnfs_ref import cli

    monkeypatch.setattr(cli, "cmd_docs", _broken_docs)
    assert cli.main(["docs", "verify"]) == 3
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1
    assert "unexpected error: RuntimeError: planted" in err and "--debug" in err
    with pytest.raises(RuntimeError, match="planted"):
        cli.main(["--debug", "docs", "verify"])

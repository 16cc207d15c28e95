"""``nnfs-ref train``: the seed's log line for line, save/load, plots, divergence, bad options.

Every run that trains is a subprocess: ``nnfs.init()`` patches NumPy globally
and must never touch the test process. Usage errors stop before ``nnfs.init()``
and are checked in this process (``usage_error`` makes sure NumPy is untouched);
tests/test_nnfs_ref_cli.py runs them in subprocesses too.
"""

import os
import pathlib
import pty
import subprocess
import sys

import numpy as np
import pytest

DATA = pathlib.Path(__file__).parent / "data"
ROOT = pathlib.Path(__file__).parent.parent
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def nnfs_ref(*args, check=True):
    result = subprocess.run([sys.executable, "-m", "nnfs_ref.cli", *args], capture_output=True,
                            text=True, env=ENV, cwd=ROOT)
    if check:
        assert result.returncode == 0, result.stderr
    return result


_DOT = np.dot


def usage_error(capsys, *args):
    """The one line ``nnfs-ref train args`` prints on stderr when it stops with exit 2."""
    from nnfs_ref import cli

    with pytest.raises(SystemExit) as info:
        cli.main(["train", *args])
    assert info.value.code == 2
    assert np.dot is _DOT  # nnfs.init() was never reached
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.splitlines()) == 1, captured.err
    return captured.err


def seed_log(learning_rate, epochs):
    """What the seed's own code prints, run as written under nnfs.init()."""
    return subprocess.run([sys.executable, "-m", "reference.seed_notebook", str(learning_rate),
                           str(epochs)], capture_output=True, text=True, env=ENV, cwd=ROOT,
                          check=True).stdout


@pytest.mark.parametrize("learning_rate", ["0.5", "1.0"])
def test_default_run_reproduces_the_seed_log(learning_rate):
    expected = (DATA / f"expected_log_lr{learning_rate}.txt").read_text()
    args = [] if learning_rate == "0.5" else ["--learning-rate", learning_rate]
    assert nnfs_ref("train", *args).stdout == expected
    assert len(expected.splitlines()) == 101


def test_the_bundled_logs_are_the_seed_codes_own():
    assert seed_log(0.5, 10001) == (DATA / "expected_log_lr0.5.txt").read_text()


@pytest.mark.parametrize("learning_rate, epochs", [(0.05, 1001), (3.0, 3001), (50.0, 601)])
def test_any_learning_rate_matches_the_seed_code(learning_rate, epochs):
    # lr 3.0 and 50 reach true-class probabilities below 1e-7, where the seed's clipped
    # loss and the exact fused loss differ: the log must still be the seed's.
    ours = nnfs_ref("train", "--learning-rate", str(learning_rate), "--epochs", str(epochs))
    assert ours.stdout == seed_log(learning_rate, epochs)


def test_save_then_load_continues_the_run(tmp_path):
    path = tmp_path / "params.npz"
    straight = nnfs_ref("train", "--epochs", "400").stdout.splitlines()
    nnfs_ref("train", "--epochs", "200", "--save", str(path))
    with np.load(path, allow_pickle=False) as archive:
        shapes = {name: archive[name].shape for name in archive.files}
        assert all(archive[name].dtype == np.float32 for name in archive.files)
    assert shapes == {"dense1_weights": (2, 64), "dense1_biases": (1, 64),
                      "dense2_weights": (64, 3), "dense2_biases": (1, 3)}
    resumed = nnfs_ref("train", "--epochs", "200", "--load", str(path)).stdout.splitlines()
    assert [line.split(", ", 1)[1] for line in resumed] == \
           [line.split(", ", 1)[1] for line in straight[2:]]


def _write(path, **arrays):
    np.savez(path, **arrays)
    return str(path)


GOOD = {"dense1_weights": np.zeros((2, 64)), "dense1_biases": np.zeros((1, 64)),
        "dense2_weights": np.zeros((64, 3)), "dense2_biases": np.zeros((1, 3))}


@pytest.mark.parametrize("arrays, message", [
    ({k: v for k, v in GOOD.items() if k != "dense2_biases"}, "lacks the array(s) dense2_biases"),
    ({**GOOD, "dense1_weights": np.zeros((3, 64))},
     r"dense1_weights has shape (3, 64), expected (2, 64)"),
    ({**GOOD, "dense2_biases": np.zeros(3)}, r"dense2_biases has shape (3,), expected (1, 3)"),
    ({**GOOD, "dense2_biases": np.array([[0, np.nan, 0]])}, "non-finite"),
    ({**GOOD, "dense1_biases": np.array([[{"a": 1}] * 64], dtype=object)},
     "holds Python objects, not arrays of numbers"),
])
def test_load_rejects_bad_files(tmp_path, arrays, message, capsys):
    err = usage_error(capsys, "--epochs", "1", "--load", _write(tmp_path / "p.npz", **arrays))
    assert message in err and "pickle" not in err


def _broken(tmp_path, kind):
    """A file ``--load`` cannot use, of the given kind."""
    path = tmp_path / "p.npz"
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "truncated zip":
        np.savez(path, **GOOD)
        path.write_bytes(path.read_bytes()[:200])
    elif kind == ".npy renamed":
        np.save(tmp_path / "p.npy", GOOD["dense1_weights"])
        (tmp_path / "p.npy").rename(path)
    elif kind == "text":
        path.write_text("dense1_weights = [[0.1, 0.2]]\n")
    elif kind == "missing":
        np.savez(tmp_path / "q.npz", **GOOD)
        return str(tmp_path / "q")
    return str(path)


@pytest.mark.parametrize("kind, message", [
    ("empty", "is empty, not an .npz archive"),
    ("truncated zip", "is a damaged .npz archive (truncated?)"),
    (".npy renamed", "is a single .npy array, not an .npz archive"),
    ("text", "is not an .npz archive written by --save"),
    ("missing", "no such file (did you mean"),
])
def test_load_names_each_kind_of_broken_file_in_one_line(tmp_path, kind, message, capsys):
    err = usage_error(capsys, "--epochs", "1", "--load", _broken(tmp_path, kind))
    assert message in err and "pickle" not in err


def test_save_and_plot_name_the_files_they_write(tmp_path):
    result = nnfs_ref("train", "--epochs", "3", "--save", str(tmp_path / "model"),
                      "--plot", str(tmp_path / "curves"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["curves.png", "model.npz"]
    assert f"saved {tmp_path / 'model.npz'}" in result.stderr
    assert f"plotted {tmp_path / 'curves.png'}" in result.stderr
    resumed = nnfs_ref("train", "--epochs", "1", "--load", str(tmp_path / "model.npz"))
    assert resumed.returncode == 0


def test_divergence_stops_with_a_clear_error():
    result = nnfs_ref("train", "--learning-rate", "1e30", "--epochs", "5000", check=False)
    assert result.returncode == 1
    assert "diverged at epoch" in result.stderr and "--learning-rate" in result.stderr
    assert "nan" not in result.stdout and len(result.stdout.splitlines()) == 1
    assert "Warning" not in result.stderr


@pytest.mark.parametrize("args, message", [
    (["--epochs", "-1"], "--epochs must be >= 1"),
    (["--epochs", "0"], "--epochs must be >= 1"),
    (["--hidden", "100000000"], "--hidden 100000000 needs about"),
    (["--blas-threads", "0"], "--blas-threads must be >= 1"),
    (["--hidden", "0"], "--hidden must be >= 1"),
    (["--classes", "1"], "--classes must be >= 2"),
    (["--learning-rate", "0"], "--learning-rate must be positive"),
    (["--learning-rate", "-0.5"], "--learning-rate must be positive"),
    (["--learning-rate", "nan"], "--learning-rate must be positive"),
    (["--samples", "0"], "--samples must be >= 1"),
    (["--print-every", "0"], "--print-every must be >= 1"),
    (["--epochs", "ten"], "expected an integer"),
    (["--save", "/no/such/folder/p.npz"], "the folder /no/such/folder does not exist"),
    (["--plot", "/no/such/folder/p.png"], "the folder /no/such/folder does not exist"),
])
def test_bad_options_are_usage_errors(args, message, capsys):
    assert message in usage_error(capsys, *args)


def test_options_change_the_run_and_quiet_is_quiet(tmp_path):
    out = nnfs_ref("train", "--epochs", "7", "--print-every", "3", "--hidden", "8",
                   "--classes", "4", "--samples", "20", "--no-nnfs-init", "--seed", "1")
    assert [line.split(",")[0] for line in out.stdout.splitlines()] == \
           ["epoch: 0", "epoch: 3", "epoch: 6"]
    quiet = nnfs_ref("train", "--epochs", "300", "--quiet")
    assert quiet.stdout == "" and quiet.stderr == ""


def test_plot_and_imports(tmp_path):
    code = (
        "import sys\nfrom nnfs_ref import cli\n"
        "assert cli.main(['train', '--epochs', '50', '--quiet']) == 0\n"
        "assert 'jax' not in sys.modules, 'train imported jax'\n"
        "assert 'matplotlib' not in sys.modules, 'train imported matplotlib without --plot'\n"
        f"assert cli.main(['train', '--epochs', '50', '--quiet',\n"
        f"                 '--plot', {str(tmp_path / 'p.png')!r}]) == 0\n"
        "assert 'jax' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], env=ENV, cwd=ROOT, check=True)
    assert (tmp_path / "p.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_progress_bar_goes_to_a_terminal_stderr_never_to_stdout():
    master, slave = pty.openpty()
    result = subprocess.run([sys.executable, "-m", "nnfs_ref.cli", "train", "--epochs", "3001"],
                            stdout=subprocess.PIPE, stderr=slave, text=True, env=ENV, cwd=ROOT)
    os.close(slave)
    terminal = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        terminal += chunk
    os.close(master)
    assert result.returncode == 0
    assert result.stdout == seed_log(0.5, 3001)
    assert b"epoch/s" in terminal or b"it/s" in terminal or b"%|" in terminal


def test_the_seeds_optimizer_spelled_out_gives_the_seeds_log():
    spelled = nnfs_ref("train", "--epochs", "501", "--optimizer", "sgd", "--learning-rate", "0.5",
                       "--decay", "0", "--momentum", "0", "--l1", "0", "--l2", "0")
    assert spelled.stdout == seed_log(0.5, 501)


@pytest.mark.parametrize("args, first, floor", [
    # The book's binary logistic regression: Adam with decay 5e-7, L2 5e-4 on dense1.
    (["--task", "binary", "--epochs", "1001"],
     "epoch: 0, acc: 0.500, loss: 0.693 (data_loss: 0.693, reg_loss: 0.000), lr: 0.001", 0.7),
    # The book's sine regression: Adam, learning rate 0.005, decay 1e-3.
    (["--task", "sine", "--epochs", "1001", "--samples", "200"], "epoch: 0, acc: ", 0.3),
    # Other optimizers on the seed's task.
    (["--optimizer", "adam", "--learning-rate", "0.02", "--epochs", "1001"],
     "epoch: 0, acc: 0.360, loss: 1.099", 0.6),
    (["--optimizer", "sgd", "--momentum", "0.9", "--decay", "1e-3", "--epochs", "2001"],
     "epoch: 0, acc: 0.360, loss: 1.099, lr: 0.5", 0.8),
    (["--optimizer", "rmsprop", "--learning-rate", "0.02", "--decay", "1e-5", "--rho", "0.999",
      "--epochs", "1001"], "epoch: 0, acc: 0.360, loss: 1.099, lr: 0.02", 0.5),
    (["--optimizer", "adagrad", "--epochs", "1001", "--l2", "5e-4"],
     "epoch: 0, acc: 0.360, loss: 1.099 (data_loss: 1.099, reg_loss: 0.000)", 0.5),
    # The book's chapter 15: dropout 0.1 after the hidden ReLU, Adam 0.05 with decay 5e-5.
    (["--optimizer", "adam", "--learning-rate", "0.05", "--decay", "5e-5", "--l2", "5e-4",
      "--dropout", "0.1", "--epochs", "1001"], "epoch: 0, acc: 0.", 0.6),
])
def test_tasks_and_optimizers_learn(args, first, floor, tmp_path):
    path = tmp_path / "params.npz"
    epochs = int(args[args.index("--epochs") + 1])
    result = nnfs_ref("train", *args, "--print-every", str(epochs // 2), "--save", str(path))
    lines = result.stdout.splitlines()
    assert len(lines) == 3 and lines[0].startswith(first), lines
    accuracies = [float(line.split("acc: ")[1].split(",")[0]) for line in lines]
    assert accuracies[-1] >= floor, lines  # the task's own accuracy measure
    assert "final accuracy" in result.stderr
    with np.load(path, allow_pickle=False) as archive:
        assert all(np.all(np.isfinite(archive[name])) for name in archive.files)
        if "sine" in args:
            assert {name: archive[name].shape for name in archive.files} == {
                "dense1_weights": (1, 64), "dense1_biases": (1, 64),
                "dense2_weights": (64, 64), "dense2_biases": (1, 64),
                "dense3_weights": (64, 1), "dense3_biases": (1, 1)}


@pytest.mark.parametrize("args, message", [
    (["--optimizer", "adam", "--momentum", "0.9"],
     "--momentum applies to --optimizer sgd, not adam"),
    (["--task", "sine", "--rho", "0.9"], "--rho applies to --optimizer rmsprop, not adam"),
    (["--optimizer", "rmsprop", "--rho", "1.5"], "--rho must lie in [0, 1), got 1.5"),
    (["--optimizer", "adam", "--beta-2", "1"], "--beta-2 must lie in [0, 1), got 1.0"),
    (["--optimizer", "adagrad", "--epsilon", "0"], "--epsilon must lie in (0, inf), got 0.0"),
    (["--decay", "-1"], "--decay must lie in [0, inf), got -1.0"),
    (["--l2", "-1"], "--l2 must be >= 0"),
    (["--task", "sine", "--classes", "3"], "--classes applies to --task spiral only"),
    (["--task", "circle"], "invalid choice: 'circle'"),
    (["--dropout", "1"], "--dropout must lie in [0, 1), got 1.0"),
    (["--optimizer", "lion"], "invalid choice: 'lion'"),
])
def test_bad_optimizer_and_task_options_are_usage_errors(args, message, capsys):
    assert message in usage_error(capsys, *args)


def test_load_checks_the_tasks_shapes(tmp_path, capsys):
    spiral = _write(tmp_path / "spiral.npz", **GOOD)
    assert "lacks the array(s) dense3_weights, dense3_biases" in usage_error(
        capsys, "--task", "sine", "--epochs", "1", "--load", spiral)
    three = _write(tmp_path / "three.npz", **GOOD, dense3_weights=np.zeros((64, 1)),
                   dense3_biases=np.zeros((1, 1)))
    assert "dense1_weights has shape (2, 64), expected (1, 64)" in usage_error(
        capsys, "--task", "sine", "--epochs", "1", "--load", three)


@pytest.mark.parametrize("task", ["binary", "sine"])
def test_plots_of_the_other_tasks(task, tmp_path):
    path = tmp_path / f"{task}.png"
    nnfs_ref("train", "--task", task, "--epochs", "20", "--samples", "50", "--quiet",
             "--plot", str(path))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_dropout_is_active_in_training_only():
    """In process, without nnfs.init: predictions after training use no dropout mask."""
    from nnfs_ref import train

    np.random.seed(0)
    config = train.TrainConfig(epochs=30, dropout=0.5, samples=20, nnfs_init=False, quiet=True)
    result = train.train(config)
    dropouts = [layer for layer in result.layers if type(layer).__name__ == "Layer_Dropout"]
    assert len(dropouts) == 1 and dropouts[0].rate == 0.5
    assert np.any(dropouts[0].mask == 0)  # training drew masks
    first = train.predict(result, result.X)
    np.testing.assert_array_equal(first, train.predict(result, result.X))
    assert np.all(dropouts[0].mask == 1)
    assert first.shape == (60,) and result.losses.shape == (30,)

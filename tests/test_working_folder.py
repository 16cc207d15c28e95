"""Every command from a folder that holds a user's own ``bench.py``, ``manual.py``,
``reference.py`` and ``tests/``: none of them may stand in for the project's."""

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

LAYER = '''import numpy as np


class Dense:
    def __init__(self, n_inputs, n_neurons):
        self.weights = 0.1 * np.random.randn(n_inputs, n_neurons)
        self.biases = np.zeros((1, n_neurons))

    def forward(self, inputs):
        self.inputs = inputs
        self.output = inputs @ self.weights + self.biases

    def backward(self, dvalues):
        self.dweights = self.inputs.T @ dvalues
        self.dbiases = dvalues.sum(axis=0, keepdims=True)
        self.dinputs = dvalues @ self.weights.T


class Halved(Dense):
    def backward(self, dvalues):
        super().backward(dvalues)
        self.dweights = self.dweights / 2
'''


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    for name in ("bench", "manual", "reference"):
        (folder / f"{name}.py").write_text(f"raise SystemExit('the user\\'s {name}.py ran')\n")
    (folder / "tests").mkdir()
    (folder / "tests" / "__init__.py").write_text("raise SystemExit('the user\\'s tests ran')\n")
    (folder / "mylayer.py").write_text(LAYER)
    return folder


def run(folder, *argv, module=False):
    """A command as a user types it there (the installed script, or ``python -m``); the
    project is found through the install, or through PYTHONPATH when the suite runs from
    a checkout."""
    script = os.path.join(os.path.dirname(sys.executable), "nnfs-ref")
    command = [sys.executable, "-m", "nnfs_ref"] if module or not os.path.exists(script) \
        else [script]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (os.environ.get("PYTHONPATH"), ROOT) if p)}
    # the checkout's root is on PYTHONPATH after the folder's own files would be: a user's
    # file still comes first wherever the working folder leads the path
    return subprocess.run(command + list(argv), capture_output=True, text=True, cwd=folder,
                          env=env)


@pytest.mark.parametrize("module", [False, True])
def test_version(hostile, module):
    done = run(hostile, "--version", module=module)
    assert done.returncode == 0 and done.stdout.startswith("nnfs-ref "), done.stderr


def test_check_passes_a_correct_layer_and_names_a_wrong_gradient(hostile):
    good = run(hostile, "check", "mylayer:Dense", "--args", "[3, 2]")
    assert good.returncode == 0, good.stdout + good.stderr
    bad = run(hostile, "check", "mylayer:Halved", "--args", "[3, 2]", module=True)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "FAIL: 1 of 5 checks disagree (dweights)" in bad.stdout


def test_train_verify_and_bench(hostile):
    train = run(hostile, "train", "--epochs", "101")
    assert train.returncode == 0 and "epoch: 100," in train.stdout, train.stderr
    verify = run(hostile, "verify", "--examples", "1")
    assert verify.returncode == 0 and "OK: all" in verify.stdout, verify.stderr
    bench = run(hostile, "bench", "--quick", "--samples", "30", "--hidden", "4", "--repeats",
                "1", "--target-seconds", "0.002")
    assert bench.returncode == 0 and "us/epoch" in bench.stdout, bench.stderr

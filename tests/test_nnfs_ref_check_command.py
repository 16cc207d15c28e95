"""``nnfs-ref check``: layers and losses from the command line, exit codes, search."""

import json
import os
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))

SQUEEZE = '''import numpy as np


class Dense:
    """Right except for a batch of 1, where squeeze() drops the batch axis."""

    def __init__(self, n_inputs, n_neurons):
        self.weights = 0.1 * np.random.randn(n_inputs, n_neurons)
        self.biases = np.zeros((1, n_neurons))

    def forward(self, inputs, training):
        self.inputs = inputs
        self.output = inputs @ self.weights + self.biases

    def backward(self, dvalues):
        self.dweights = self.inputs.T @ dvalues
        self.dbiases = np.sum(dvalues, axis=0, keepdims=True)
        self.dinputs = (dvalues @ self.weights.T).squeeze()


class Raises(Dense):
    def backward(self, dvalues):
        raise ValueError("not written yet")
'''


@pytest.fixture()
def folder(tmp_path):
    shutil.copy(os.path.join(HERE, "bookstyle.py"), tmp_path / "bookstyle.py")
    shutil.copy(os.path.join(HERE, "conventions.py"), tmp_path / "conventions.py")
    (tmp_path / "squeeze.py").write_text(SQUEEZE)
    return tmp_path


def nnfs_ref(folder, *argv):
    env = {**os.environ, "PYTHONPATH": os.path.dirname(HERE)}
    return subprocess.run([sys.executable, "-m", "nnfs_ref.cli", *argv], capture_output=True,
                          text=True, cwd=folder, env=env)


def test_a_correct_layer_exits_0(folder):
    done = nnfs_ref(folder, "check", "bookstyle:Layer_Dense", "--args", "[4, 3]")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "OK: all 5 checks agree." in done.stdout
    assert "called as forward(inputs, training=True)" in done.stdout


def test_a_wrong_gradient_exits_1_and_names_it(folder):
    done = nnfs_ref(folder, "check", "squeeze:Dense", "--args", "[3, 2]", "--shape", "1,3")
    assert done.returncode == 1
    assert "FAIL: dinputs has shape (3,), expected (1, 3)" in done.stdout


def test_a_loss_is_found_by_its_backward(folder):
    done = nnfs_ref(folder, "check", "./bookstyle.py:Loss_CategoricalCrossentropy")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "random probabilities of shape (8, 3), labels targets" in done.stdout
    fused = nnfs_ref(folder, "check", "bookstyle:Activation_Softmax_Loss_CategoricalCrossentropy")
    assert fused.returncode == 0 and "random logits" in fused.stdout


def test_params_and_json(folder):
    out = folder / "report.json"
    done = nnfs_ref(folder, "check", "bookstyle:DenseW", "--args", "[3, 2]", "--params", "W",
                    "--json", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    record = json.loads(out.read_text())
    assert record["verdict"] == "ok"
    assert [r["name"] for r in record["rows"]] == ["dinputs", "dW", "inputs unchanged",
                                                   "dvalues unchanged"]


# (the usage errors that need no user module of this folder are rows of test_nnfs_ref_cli.py)
@pytest.mark.parametrize("argv, message", [
    (["check", "bookstyle:Layer_Dense"], "cannot take --args []: missing a required argument"),
    (["check", "bookstyle:Nope"], "module 'bookstyle' has no 'Nope'"),
    (["check", "Dense"], "must look like module:Class"),
    (["check", "squeeze:Raises", "--args", "[2, 2]"],
     "your backward raised ValueError: not written yet"),
    (["check", "bookstyle:DenseW", "--args", "[2, 2]", "--params", "Q"],
     "has no float array Q"),
])
def test_usage_errors_and_raising_code_exit_2_in_one_line(folder, argv, message):
    done = nnfs_ref(folder, *argv)
    assert done.returncode == 2, done.stdout + done.stderr
    text = done.stdout + done.stderr
    assert message in text, text
    assert "Traceback" not in text


def test_search_shrinks_to_a_runnable_snippet(folder):
    done = nnfs_ref(folder, "check", "squeeze:Dense", "--search", "30")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Smallest failing case" in done.stdout
    snippet = done.stdout.split("Run it yourself:\n", 1)[1]
    assert "layer = Dense(1, 1)" in snippet  # shrunk to the smallest sizes
    rerun = subprocess.run([sys.executable, "-c", snippet], capture_output=True, text=True,
                           cwd=folder, env={**os.environ, "PYTHONPATH": os.path.dirname(HERE)})
    assert rerun.returncode == 0, rerun.stderr
    assert "FAIL: dinputs has shape ()" in rerun.stdout


def test_search_passes_a_correct_class(folder):
    done = nnfs_ref(folder, "check", "bookstyle:Layer_Dense", "--search", "25")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("OK: no failing case in 25 searched")


def test_conventions_of_the_wild_from_the_command_line(folder):
    done = nnfs_ref(folder, "check", "conventions:Embedding", "--args", "[5, 3]", "--shape",
                    "int:4,6:5")  # word indices in [0, 5)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "int64 inputs: passed as they are and not differentiated" in done.stdout
    done = nnfs_ref(folder, "check", "conventions:SquaredError")  # a loss object, found
    assert done.returncode == 0, done.stdout + done.stderr
    assert "a loss object: forward = loss(y_true, y_pred)" in done.stdout
    done = nnfs_ref(folder, "check", "conventions:SteppingLinear", "--args", "[4, 3]")
    assert done.returncode == 0 and "gradients recovered from backward" in done.stdout, \
        done.stdout + done.stderr


def test_an_engine_from_the_command_line_with_search_and_json(folder):
    shutil.copy(os.path.join(HERE, "engine_styles.py"), folder / "engine_styles.py")
    out = folder / "engine.json"
    done = nnfs_ref(folder, "check", "engine_styles:LectureValue", "--search", "3", "--json",
                    str(out))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "FAIL: 2 of 13 operators disagree (__rsub__, __rtruediv__)" in done.stdout
    record = json.loads(out.read_text())
    assert record["verdict"] == "fail" and record["failing"] == ["__rsub__", "__rtruediv__"]
    assert record["operators"]["__mul__"]["checked"] == 9  # 3 examples of each of 3 forms
    assert record["missing"] == ["relu", "log", "sigmoid"]
    done = nnfs_ref(folder, "check", "engine_styles:LectureValue", "--shape", "4,3")
    assert done.returncode == 2
    assert done.stderr.strip().endswith("--shape cannot be used with an engine: its leaves and "
                                        "expressions are made by check_engine (use --search N, "
                                        "--seed, --rtol, --scale-tol, --json)")


def test_an_engine_whose_leaves_cannot_be_made_exits_2(folder):
    (folder / "noleaf.py").write_text(
        "class Value:\n"
        "    def __init__(self, data):\n"
        "        raise TypeError('give me a list')\n"
        "    def __add__(self, other):\n"
        "        return self\n"
        "    def backward(self):\n"
        "        pass\n")
    done = nnfs_ref(folder, "check", "noleaf:Value")
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.strip() == ("nnfs-ref check: error: a leaf Value(x) could not be made "
                                   "from a float: your Value() raised TypeError: give me a "
                                   "list")

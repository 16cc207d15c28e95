"""``nnfs-ref verify`` passes on manual/ and catches planted bugs."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import manual
from nnfs_ref import cli
from reference import verify


def _scaled(method, attr, factor=1 + 1e-6):
    """``method`` followed by ``self.<attr> *= factor``: a planted relative error."""
    def patched(self, *args):
        method(self, *args)
        setattr(self, attr, getattr(self, attr) * factor)
    return patched


_DENSE_BACKWARD = manual.Layer_Dense.backward


def _flat_dbiases(self, dvalues):
    _DENSE_BACKWARD(self, dvalues)
    self.dbiases = self.dbiases.ravel()


def _relu_kink_passes(self, dvalues):
    self.dinputs = np.where(self.inputs >= 0, dvalues, 0)  # gradient 1 at exactly 0


def _softmax_ones_only(self, dvalues):
    # right only for an all-ones upstream (it returns 0, as that case does)
    self.dinputs = np.zeros_like(dvalues)


def _cce_ignores_clip(self, dvalues, y_true):
    y = np.eye(dvalues.shape[1])[y_true]
    with np.errstate(divide="ignore"):
        self.dinputs = -y / dvalues / len(dvalues)


Dense, ReLU = manual.Layer_Dense, manual.Activation_ReLU
Softmax, CCE = manual.Activation_Softmax, manual.Loss_CategoricalCrossentropy
Fused = manual.Activation_Softmax_Loss_CategoricalCrossentropy

MUTANTS = {
    "dweights * (1 + 1e-6)": (Dense, "backward", _scaled(Dense.backward, "dweights")),
    "dbiases * (1 + 1e-6)": (Dense, "backward", _scaled(Dense.backward, "dbiases")),
    "dinputs * (1 + 1e-6)": (Dense, "backward", _scaled(Dense.backward, "dinputs")),
    "flattened dbiases": (Dense, "backward", _flat_dbiases),
    "ReLU gradient 1 at the kink": (ReLU, "backward", _relu_kink_passes),
    "softmax dinputs * (1 + 1e-6)": (Softmax, "backward", _scaled(Softmax.backward, "dinputs")),
    "softmax backward right only for all-ones upstream": (Softmax, "backward", _softmax_ones_only),
    "CCE backward ignores the clip": (CCE, "backward", _cce_ignores_clip),
    "fused dinputs * (1 + 1e-6)": (Fused, "backward", _scaled(Fused.backward, "dinputs")),
}


def test_verify_passes_on_manual():
    rows = verify.run(seed=0, examples=3)
    assert all(r["ok"] for r in rows), verify.verdict(rows, 3)
    names = {(r["cls"], r["name"]) for r in rows}
    for cls in ("Layer_Dense", "Activation_ReLU", "Activation_Softmax",
                "Loss_CategoricalCrossentropy", "Activation_Softmax_Loss_CategoricalCrossentropy",
                "Network 2-64-3", "Optimizer_SGD"):
        assert any(c == cls for c, _ in names), cls
    assert ("Layer_Dense", "dbiases") in names


@pytest.mark.parametrize("mutant", list(MUTANTS))
def test_verify_catches_planted_bug(mutant, monkeypatch):
    cls, method, patched = MUTANTS[mutant]
    monkeypatch.setattr(cls, method, patched)
    rows = verify.run(seed=0, examples=3)
    failing = [f"{r['cls']}.{r['name']}" for r in rows if not r["ok"]]
    assert failing, f"verify missed the mutant {mutant!r}"


def test_verify_exit_codes_and_json(tmp_path, monkeypatch, capsys):
    path = tmp_path / "rows.json"
    assert cli.main(["verify", "--examples", "2", "--json", str(path)]) == 0
    out = capsys.readouterr().out
    assert "OK: all" in out and "Layer_Dense" in out and "max rel err" in out
    record = json.loads(path.read_text())
    assert record["ok"] is True and len(record["rows"]) >= 20
    assert {"cls", "name", "shape", "max_abs", "max_rel", "worst_index", "ok"} <= set(
        record["rows"][0])
    cls, method, patched = MUTANTS["flattened dbiases"]
    monkeypatch.setattr(cls, method, patched)
    assert cli.main(["verify", "--examples", "2", "--json", str(path)]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "Layer_Dense.dbiases" in out
    assert json.loads(path.read_text())["ok"] is False


@pytest.mark.parametrize("argv", [["verify", "--examples", "0"], ["verify", "--rtol", "-1"],
                                  ["verify", "--examples", "x"], []])
def test_verify_usage_errors(argv, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    assert info.value.code == 2
    assert "usage" in capsys.readouterr().err


def _run(code):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": os.getcwd()}, check=True)


def test_manual_never_imports_jax():
    _run("import sys, manual; assert 'jax' not in sys.modules, 'manual imported jax'")


def test_cli_help_does_not_import_jax():
    _run("import sys; from nnfs_ref import cli\n"
         "try:\n    cli.main(['--help'])\nexcept SystemExit:\n    pass\n"
         "assert 'jax' not in sys.modules")

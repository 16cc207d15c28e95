"""``nnfs-ref verify`` passes on manual/; exit codes, JSON, imports.

That verify catches each planted bug of the mutation catalogue is shown in
test_nnfs_ref_mutants.py (one mechanism for planting bugs: nnfs_ref.mutants).
"""

import json
import os
import subprocess
import sys

import pytest

from nnfs_ref import cli, mutants
from reference import verify


def test_verify_passes_on_manual():
    rows = verify.run(seed=0, examples=3)
    assert all(r.ok for r in rows), verify.verdict(rows, 3)
    names = {(r.cls, r.name) for r in rows}
    for cls in ("Layer_Dense", "Activation_ReLU", "Activation_Softmax",
                "Loss_CategoricalCrossentropy", "Activation_Softmax_Loss_CategoricalCrossentropy",
                "Network 2-64-3", "Optimizer_SGD"):
        assert any(c == cls for c, _ in names), cls
    assert ("Layer_Dense", "dbiases") in names


def test_the_rows_do_not_depend_on_the_number_of_processes():
    one, two = verify.run(seed=3, examples=2, jobs=1), verify.run(seed=3, examples=2, jobs=2)
    assert [(r.cls, r.name, r.failed) for r in one] == [(r.cls, r.name, r.failed) for r in two]
    assert [r.check.max_abs for r in one] == [r.check.max_abs for r in two]
    assert {r.cls for r in one} == {case.title for case in verify.CASES}


def test_verify_exit_codes_and_json(tmp_path, capsys):
    path = tmp_path / "rows.json"
    assert cli.main(["verify", "--examples", "2", "--json", str(path)]) == 0
    out = capsys.readouterr().out
    assert "OK: all" in out and "Layer_Dense" in out and "max rel err" in out
    record = json.loads(path.read_text())
    assert record["ok"] is True and len(record["rows"]) >= 20
    assert {"cls", "name", "shape", "max_abs", "max_rel", "worst_index", "ok"} <= set(
        record["rows"][0])
    flattened = next(m for m in mutants.CATALOG if "flattened dbiases" in m.name)
    with mutants.planted(flattened):  # planted in this process: one job
        assert cli.main(["verify", "--examples", "2", "--jobs", "1", "--json", str(path)]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "Layer_Dense.dbiases" in out
    assert json.loads(path.read_text())["ok"] is False


def _run(code):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": os.getcwd()}, check=True)


def test_manual_never_imports_jax():
    _run("import sys, manual; assert 'jax' not in sys.modules, 'manual imported jax'")


def test_cli_help_does_not_import_jax():
    _run("import sys; from nnfs_ref import cli\n"
         "try:\n    cli.main(['--help'])\nexcept SystemExit:\n    pass\n"
         "assert 'jax' not in sys.modules\n"
         "assert 'importlib.metadata' not in sys.modules  # --version looks it up, only\n"
         "assert 'numpy' not in sys.modules  # check's arguments need it, when check runs")


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.startswith("nnfs-ref 0.")


def test_the_verdict_counts_cases_in_words():
    assert verify.verdict([], 1).endswith("on 1 random case each.")
    assert verify.verdict([], 20).endswith("on 20 random cases each.")

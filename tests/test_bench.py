"""The benchmark code runs, on a tiny size. No timing assertions: benchmarks are not tests."""

import json
import subprocess
import sys

import pytest

from bench import run

KEYS = {"impl", "samples", "hidden", "dtype", "epochs", "us_per_epoch", "us_min", "us_max",
        "compile_s", "peak_rss_mib", "vs_seed", "vs_jax", "blas"}


def test_every_implementation_runs_and_reports(tmp_path):
    impls = [("seed", "float32"), ("manual", "float32"), ("manual", "float64"),
             ("jax", "float32"), ("jax", "float64"), ("jax-step", "float32")]
    records = run.measure([((30, 8), impls)], repeats=2, target_seconds=0.002)
    assert [(r["impl"], r["dtype"]) for r in records] == impls
    for r in records:
        assert KEYS <= set(r)
        assert (r["samples"], r["hidden"], r["repeats"]) == (30, 8, 2)
        assert 0 < r["us_min"] <= r["us_per_epoch"] <= r["us_max"]
        assert r["epochs"] >= 1 and r["peak_rss_mib"] > 0
        assert (r["compile_s"] is None) == (r["impl"] in ("seed", "manual"))
        assert r["blas"] and all(pool["num_threads"] == 1 for pool in r["blas"])
    seed = records[0]
    assert seed["vs_seed"] == 1.0
    assert records[3]["vs_jax"] == 1.0 and records[4]["vs_jax"] == 1.0
    table = run.format_table(records)
    assert "jax-step" in table and "speed-up vs seed" in table
    path = tmp_path / "chart.png"
    run.plot(records + [dict(r, samples=60) for r in records], path)
    assert path.read_bytes()[:4] == b"\x89PNG"


def test_a_workers_peak_memory_is_its_own_not_its_parents():
    held = bytearray(300 * 2**20)  # this process holds 300 MiB more when the worker starts
    held[::4096] = b"\1" * len(held[::4096])
    worker = run.Worker({"impl": "manual", "dtype": "float32", "samples": 30, "hidden": 8,
                         "target_seconds": 0.002})
    worker.run()
    record = worker.finish()
    assert 0 < record["peak_rss_mib"] < 300, record["peak_rss_mib"]


def test_cli_quick_sweep_on_a_tiny_size(tmp_path):
    out = tmp_path / "bench.json"
    result = subprocess.run(
        [sys.executable, "-m", "nnfs_ref.cli", "bench", "--quick", "--samples", "30", "60",
         "--hidden", "4", "--repeats", "2", "--target-seconds", "0.002", "--blas-threads", "2",
         "--json", str(out)],
        capture_output=True, text=True, check=True)
    records = json.loads(out.read_text())
    assert {(r["impl"], r["samples"]) for r in records} == {
        (impl, n) for impl in ("seed", "manual", "jax") for n in (30, 60)}
    assert "us/epoch" in result.stdout and "2 threads" in result.stdout
    assert {pool["num_threads"] for r in records for pool in r["blas"]} == {2}


def test_plan_covers_the_book_size_and_the_sweep():
    groups = dict(run.plan())
    assert set(groups) == {(n, h) for n in (300, 3000, 30000) for h in (64, 512)}
    assert ("jax-step", "float32") in groups[(300, 64)]
    assert ("manual", "float64") in groups[(300, 64)]


@pytest.mark.parametrize("argv", [["bench", "--samples", "0"], ["bench", "--repeats", "-1"],
                                  ["bench", "--target-seconds", "0"]])
def test_bad_bench_options(argv, capsys):
    from nnfs_ref import cli

    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    assert info.value.code == 2


def test_the_checker_bench_counts_forward_calls_and_reports_verdicts(capsys):
    from bench import checker

    small = [("Layer_Dense(5, 3)", lambda m: m.Layer_Dense(5, 3), (4, 5), 0.0, mode)
             for mode in ("entries", "directions")]
    small.append(("Activation_ReLU, 40% exact zeros", lambda m: m.Activation_ReLU(), (4, 5),
                  0.4, "auto"))
    records = checker.main(repeats=2, cases=small, stress_cases="MaxPool")
    entries, directions, relu = records
    assert [r["verdict"] for r in records] == ["ok", "ok", "ok"]
    # entry by entry: at least two forwards per entry of inputs (20), weights (15), biases (3)
    assert entries["forward_calls"] >= 2 * (20 + 15 + 3)
    assert 0 < directions["forward_calls"] < entries["forward_calls"]
    assert all(0 < r["min_s"] <= r["median_s"] and r["repeats"] == 2 for r in records)
    out = capsys.readouterr().out
    assert "median of 2 runs" in out and "forward calls" in out and "Layer_Dense(5, 3)" in out
    assert "MaxPool(2), tied windows" in out and "calls per entry" in out
    assert "0 false alarms in 1 correct cases; 1 of 1 planted bugs fail (0 missed" in out


def test_ctrl_c_is_one_line_and_exit_130(tmp_path):
    import os
    import signal
    import time

    proc = subprocess.Popen([sys.executable, "-m", "nnfs_ref", "bench", "--quick"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    time.sleep(6)  # the workers are running (JAX's among them)
    os.killpg(proc.pid, signal.SIGINT)  # as a terminal's Ctrl-C: the whole process group
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130
    assert err == "nnfs-ref bench: interrupted\n"


def test_a_worker_whose_driver_is_gone_ends_quietly_without_a_record():
    import io
    import json

    from bench import worker

    spec = {"impl": "manual", "dtype": "float64", "samples": 30, "hidden": 4,
            "target_seconds": 0.001}
    out = io.StringIO()
    worker.serve(spec, io.StringIO(""), out)  # the commands end at once: no "done"
    lines = out.getvalue().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["ready"] is True
    out = io.StringIO()
    worker.serve(spec, io.StringIO("run\ndone\n"), out)
    record = json.loads(out.getvalue().splitlines()[-1])
    assert record["repeats"] == 1 and record["us_per_epoch"] > 0

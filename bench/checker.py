"""``nnfs-ref bench --checker``: what ``check_layer`` costs, in seconds and forward calls.

Forward calls are counted (the same on every run, whatever the machine is
doing: the layers' weights, drawn from NumPy's global random state by their
constructors, are drawn under a fixed seed); seconds are the median of several
runs. The target the directional
mode exists for: ``Layer_Dense(784, 64)`` with a batch of 32 in under a second.
"""

import statistics
import time

import numpy as np

#: (label, layer factory, input shape, zero fraction, mode)
CASES = [
    ("Layer_Dense(784, 64)", lambda m: m.Layer_Dense(784, 64), (32, 784), 0.0, "auto"),
    ("Layer_Dense(784, 64)", lambda m: m.Layer_Dense(784, 64), (32, 784), 0.0, "directions"),
    ("Layer_Dense(64, 64)", lambda m: m.Layer_Dense(64, 64), (32, 64), 0.0, "entries"),
    ("Layer_Dense(64, 64)", lambda m: m.Layer_Dense(64, 64), (32, 64), 0.0, "directions"),
    ("Layer_Dense(2, 64) (the seed's)", lambda m: m.Layer_Dense(2, 64), (300, 2), 0.0, "auto"),
    ("Activation_ReLU, 40% exact zeros", lambda m: m.Activation_ReLU(), (32, 784), 0.4, "auto"),
]


def _counted(layer):
    """Count the layer's forward calls (an attribute on the instance wraps the method)."""
    forward = layer.forward
    layer.calls = 0

    def counting(*args, **kwargs):
        layer.calls += 1
        return forward(*args, **kwargs)
    layer.forward = counting
    return layer


def measure(repeats=5, cases=CASES):
    """One record per case of ``cases`` (default :data:`CASES`): median and min seconds,
    forward calls, the verdict. NumPy's global random state is seeded for the
    constructors' weights, and put back after."""
    state = np.random.get_state()
    np.random.seed(0)
    try:
        return [_measure_case(case, repeats, np.random.default_rng([0, k]))
                for k, case in enumerate(cases)]
    finally:
        np.random.set_state(state)


def _measure_case(case, repeats, rng):
    import manual
    from nnfs_ref.check import check_layer

    label, make, shape, zeros, mode = case
    inputs = rng.standard_normal(shape)
    inputs[rng.random(shape) < zeros] = 0.0
    times, calls, verdict = [], 0, ""
    for _ in range(repeats):
        layer = _counted(make(manual))
        if hasattr(layer, "biases"):
            layer.biases = rng.standard_normal(layer.biases.shape)
        start = time.perf_counter()
        report = check_layer(layer, inputs, mode=mode)
        times.append(time.perf_counter() - start)
        calls, verdict = layer.calls, report.verdict
    return {"case": label, "inputs": list(shape), "mode": mode,
            "median_s": statistics.median(times), "min_s": min(times),
            "forward_calls": calls, "verdict": verdict, "repeats": repeats}


def stress_table(outcomes):
    """The stress suite's table: verdict on correct code, planted bugs caught, forward calls
    per differenced entry, and a closing line with the totals."""
    from nnfs_ref.table import format_rows

    rows = [(o.label, o.verdict, f"{o.caught} of {o.planted}",
             ", ".join(o.missed) or "-", f"{o.calls / o.entries:.2f}") for o in outcomes]
    alarms = sum(o.verdict != "ok" for o in outcomes)
    missed = sum(len(o.missed) for o in outcomes)
    unresolved = sum(len(o.unresolved) for o in outcomes)
    calls = sum(o.calls for o in outcomes) / sum(o.entries for o in outcomes)
    return "\n".join([
        format_rows(["correct case", "verdict", "planted bugs failed", "passed (misses)",
                     "calls per entry"], rows),
        f"{alarms} false alarms in {len(outcomes)} correct cases; "
        f"{sum(o.caught for o in outcomes)} of {sum(o.planted for o in outcomes)} planted bugs "
        f"fail ({missed} missed, {unresolved} below the oracle's resolution); "
        f"{calls:.2f} forward calls per entry overall"])


def main(repeats=5, cases=CASES, stress_cases=None):
    """Print the timings of ``cases`` and the stress suite's table (the cases whose label
    holds ``stress_cases``, default all); returns the timing records."""
    import nnfs_ref.check
    from bench import stress
    from nnfs_ref.table import format_rows

    records = measure(repeats, cases)
    print(f"check_layer, finite differences, median of {repeats} runs")
    print(format_rows(["case", "inputs", "mode", "median s", "min s", "forward calls",
                       "verdict"],
                      [(r["case"], "x".join(map(str, r["inputs"])), r["mode"],
                        f"{r['median_s']:.3f}", f"{r['min_s']:.3f}", r["forward_calls"],
                        r["verdict"]) for r in records]))
    print()
    print("The stress suite (bench/stress.py): correct code at hard points, and bugs planted in it")
    print(stress_table(stress.run(nnfs_ref.check, stress_cases)))
    return records

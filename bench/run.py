"""The benchmark sweep behind ``nnfs-ref bench``: table, JSON records, scaling chart.

Each record: ``impl`` (``seed``, ``manual``, ``jax``, ``jax-step``), ``samples``,
``hidden``, ``dtype``, ``epochs`` (per timed block), ``repeats``,
``us_per_epoch`` (the median over blocks), ``us_min``, ``us_max``,
``compile_s`` (JAX only, separate from the timings), ``peak_rss_mib`` (the
worker process's peak resident memory) and ``peak_rss_delta_mib`` (its growth
from just before the data were made), plus the ratios ``vs_seed`` (seed's
time / this one: a speed-up) and ``vs_jax`` (this time / the compiled JAX
loop's, same dtype: how many times slower than JAX), both of the fastest blocks,
and ``blas`` (the BLAS library, version and threads of the worker's NumPy).
"""

import json
import os
import subprocess
import sys

#: (impl, dtype) measured at the book's size (300 samples, 2-64-3).
BOOK_IMPLS = [("seed", "float32"), ("manual", "float32"), ("manual", "float64"),
              ("jax", "float32"), ("jax", "float64"), ("jax-step", "float32")]
#: (impl, dtype) measured across the sweep.
SWEEP_IMPLS = {
    "quick": [("seed", "float32"), ("manual", "float32"), ("jax", "float32")],
    "full": [("seed", "float32"), ("manual", "float32"), ("manual", "float64"),
             ("jax", "float32"), ("jax", "float64"), ("jax-step", "float32")],
}
SAMPLES = (300, 3000, 30000)
HIDDEN = (64, 512)
BOOK = (300, 64)
SETTINGS = {"quick": {"repeats": 9, "target_seconds": 0.03},
            "full": {"repeats": 11, "target_seconds": 0.25}}


def plan(quick=False, samples=SAMPLES, hidden=HIDDEN):
    """The measurements, grouped by size: ``[((samples, hidden), [(impl, dtype), ...]), ...]``."""
    mode = "quick" if quick else "full"
    groups = []
    for h in hidden:
        for n in samples:
            impls = BOOK_IMPLS if (n, h) == BOOK else SWEEP_IMPLS[mode]
            groups.append(((n, h), list(impls)))
    return groups


class Worker:
    """A :mod:`bench.worker` process: set up on start, one timed block per :meth:`run`."""

    def __init__(self, spec):
        self.spec = spec
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            p for p in (root, os.environ.get("PYTHONPATH")) if p)}
        from bench.worker import COMMAND

        self.proc = subprocess.Popen([sys.executable, "-c", COMMAND, json.dumps(spec)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                     env=env)
        self._read()  # the "ready" line

    def _read(self):
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait()
            raise RuntimeError(f"benchmark worker {self.spec} failed (exit {self.proc.returncode})")
        return json.loads(line)

    def _send(self, command):
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()

    def run(self):
        self._send("run")
        return self._read()

    def finish(self):
        self._send("done")
        record = self._read()
        self.proc.wait()
        return record


def measure(groups, repeats, target_seconds, progress=None, blas_threads=1):
    """Run every group; within one, the workers take turns, one block each per round."""
    records = []
    for (samples, hidden), impls in groups:
        workers = []
        try:
            for impl, dtype in impls:
                workers.append(Worker({"impl": impl, "dtype": dtype, "samples": samples,
                                       "hidden": hidden, "target_seconds": target_seconds,
                                       "blas_threads": blas_threads}))
                if progress:
                    progress.update()
            for _ in range(repeats):
                for worker in workers:
                    worker.run()
            records += [worker.finish() for worker in workers]
        except KeyboardInterrupt:  # the workers ignore Ctrl-C: end them, then say so above
            for worker in workers:
                worker.proc.kill()
                worker.proc.wait()
            raise
    return add_ratios(records)


def add_ratios(records):
    """``vs_seed`` and ``vs_jax`` for each record, against the same size (JAX: same dtype).

    The ratios are of the fastest blocks (``us_min``): on a shared machine, other
    processes only ever add time, and the medians of two runs can differ by half
    while their fastest blocks agree within a few percent.
    """
    def find(impl, samples, hidden, dtype=None):
        for r in records:
            if (r["impl"], r["samples"], r["hidden"]) == (impl, samples, hidden) and \
                    (dtype is None or r["dtype"] == dtype):
                return r
        return None

    for r in records:
        seed = find("seed", r["samples"], r["hidden"])
        jax = find("jax", r["samples"], r["hidden"], r["dtype"]) or \
            find("jax", r["samples"], r["hidden"], "float32")
        r["vs_seed"] = seed["us_min"] / r["us_min"] if seed else None
        r["vs_jax"] = r["us_min"] / jax["us_min"] if jax else None
    return records


def _fmt_us(us):
    return f"{us:,.0f}" if us >= 100 else f"{us:.1f}"


def format_table(records):
    """Fixed-width table of the records, one row per measurement."""
    header = ("impl", "dtype", "samples", "hidden", "us/epoch", "min", "max", "compile s",
              "peak MiB", "speed-up vs seed (min)", "x compiled jax (min)")
    rows = [(r["impl"], r["dtype"], str(r["samples"]), str(r["hidden"]),
             _fmt_us(r["us_per_epoch"]), _fmt_us(r["us_min"]), _fmt_us(r["us_max"]),
             "-" if r["compile_s"] is None else f"{r['compile_s']:.2f}",
             f"{r['peak_rss_mib']:.0f}",
             "-" if r["vs_seed"] is None else f"{r['vs_seed']:.2f}x",
             "-" if r["vs_jax"] is None else f"{r['vs_jax']:.2f}x") for r in records]
    from nnfs_ref.table import format_rows

    return format_rows(header, rows, right=range(2, len(header)))


def targets(records):
    """The issue's targets at the book's size, float32: manual >= 3x seed, <= 2x compiled JAX."""
    manual = next((r for r in records if (r["impl"], r["dtype"], r["samples"], r["hidden"])
                   == ("manual", "float32", *BOOK)), None)
    if manual is None or manual["vs_seed"] is None or manual["vs_jax"] is None:
        return None
    return (f"book size, float32, fastest blocks: manual is {manual['vs_seed']:.2f}x faster "
            f"than the seed's code (target >= 3x: "
            f"{'met' if manual['vs_seed'] >= 3 else 'NOT met'}) and "
            f"{manual['vs_jax']:.2f}x the compiled JAX loop's time (target <= 2x: "
            f"{'met' if manual['vs_jax'] <= 2 else 'NOT met'})")


def plot(records, path):
    """Log-log chart of µs/epoch against samples, a panel per hidden width."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    hiddens = sorted({r["hidden"] for r in records})
    fig, axes = plt.subplots(1, len(hiddens), figsize=(6 * len(hiddens), 4.5), squeeze=False)
    for ax, hidden in zip(axes[0], hiddens):
        series = sorted({(r["impl"], r["dtype"]) for r in records if r["hidden"] == hidden})
        for impl, dtype in series:
            rows = sorted((r for r in records if (r["impl"], r["dtype"], r["hidden"])
                           == (impl, dtype, hidden)), key=lambda r: r["samples"])
            if len(rows) < 2:
                continue
            xs = [r["samples"] for r in rows]
            ax.errorbar(xs, [r["us_per_epoch"] for r in rows],
                        yerr=[[r["us_per_epoch"] - r["us_min"] for r in rows],
                              [r["us_max"] - r["us_per_epoch"] for r in rows]],
                        marker="o", capsize=3, label=f"{impl} {dtype}")
        ax.set(xscale="log", yscale="log", xlabel="samples (batch)", ylabel="µs per epoch",
               title=f"2-{hidden}-3 network")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    fig.suptitle("Cost of one training epoch (median, min-max bars)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def describe_blas(records):
    """One line naming the BLAS of the NumPy implementations' records (from their ``blas``)."""
    pools = {(p["internal_api"], p["version"], p["num_threads"], p["architecture"])
             for r in records for p in r.get("blas") or []}
    return "; ".join(f"{api} {version} ({architecture}), {threads} thread"
                     + ("s" if threads != 1 else "")
                     for api, version, threads, architecture in sorted(pools, key=str))


def main(quick=False, json_path=None, plot_path=None, samples=SAMPLES, hidden=HIDDEN,
         repeats=None, target_seconds=None, out=sys.stdout, blas_threads=1):
    """Run the sweep, print the table; return the records."""
    from tqdm import tqdm

    mode = "quick" if quick else "full"
    repeats = repeats or SETTINGS[mode]["repeats"]
    target_seconds = target_seconds or SETTINGS[mode]["target_seconds"]
    groups = plan(quick, samples, hidden)
    with tqdm(total=sum(len(impls) for _, impls in groups), file=sys.stderr, unit="worker",
              disable=not sys.stderr.isatty(), leave=False) as progress:
        records = measure(groups, repeats, target_seconds, progress, blas_threads)
    print(f"nnfs-ref bench ({mode}): one epoch = forward, loss, accuracy, backward, SGD "
          f"update; median of {repeats} blocks of ~{target_seconds:g} s each, taken in turns; "
          f"NumPy's BLAS: {describe_blas(records) or 'unknown'}", file=out)
    print(format_table(records), file=out)
    verdict = targets(records)
    if verdict:
        print(verdict, file=out)
    if json_path:
        with open(json_path, "w") as fh:
            json.dump(records, fh, indent=2)
    if plot_path:
        plot(records, plot_path)
    return records

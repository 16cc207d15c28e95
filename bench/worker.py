"""One measurement, in a process of its own: ``python -m bench.worker '<json spec>'``.

A process per measurement keeps ``nnfs.init()``'s patching of NumPy (the
``seed`` implementation) away from the others, and gives each its own peak
memory. The process sets up, compiles, warms up and calibrates, prints a
``ready`` line, then times one block of epochs for each ``run`` line it reads
(printing µs per epoch) until ``done``, when it prints its JSON record. The
driver (:mod:`bench.run`) sends ``run`` to the workers of one size in turn,
so the machine's noise falls on all implementations alike.
"""

import json
import resource
import statistics
import sys
import time

IMPLS = ("seed", "manual", "jax", "jax-step")


def _rss_mib():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize() / 2**20


def _peak_rss_mib():
    """This process's peak resident memory, ``VmHWM``. Not ``ru_maxrss``: for a process
    started by fork and exec, Linux counts the parent's resident memory at the fork in it
    (the workers of a driver that had imported matplotlib reported its 66 MiB, not their
    own 36 MiB)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    raise RuntimeError("/proc/self/status has no VmHWM line")


def _seconds(run, epochs):
    """Wall-clock seconds of ``run(epochs)``."""
    start = time.perf_counter()
    run(epochs)
    return time.perf_counter() - start


def _calibrate(run, target_seconds):
    """How many epochs make one timed block last about ``target_seconds``."""
    epochs = 1
    while True:
        elapsed = _seconds(run, epochs)
        if elapsed >= target_seconds / 4 or epochs >= 1_000_000:
            return max(1, round(epochs * target_seconds / max(elapsed, 1e-9)))
        epochs *= 4


class Measurement:
    """One implementation at one size: set up, compiled, warmed up and calibrated."""

    def __init__(self, spec):
        impl, dtype = spec["impl"], spec["dtype"]
        if impl not in IMPLS:
            raise ValueError(f"impl must be one of {IMPLS}, got {impl!r}")
        self.spec = spec
        self.compile_seconds = None
        if impl == "seed":
            import nnfs

            nnfs.init()  # as the seed does: float32, np.dot patched
        if impl in ("jax", "jax-step"):
            import jax

            import reference.functions  # noqa: F401  (imported before the memory baseline)

            jax.config.update("jax_enable_x64", dtype == "float64")
        import nnfs.datasets  # noqa: F401
        import numpy as np

        import manual
        from bench import epochs as E
        from reference import seed_notebook

        self.rss_before = _rss_mib()
        X, y = E.spiral(spec["samples"])
        if impl in ("seed", "manual"):
            module = seed_notebook if impl == "seed" else manual
            epoch = E.numpy_epoch(module, X, y, spec["hidden"],
                                  dtype=None if impl == "seed" else np.dtype(dtype))

            def run(n):
                for _ in range(n):
                    epoch()
        else:
            import jax

            step, loop, params, Xj, yj = E.jax_setup(X, y, spec["hidden"],
                                                     dtype=np.dtype(dtype))
            if impl == "jax":
                def run(n):
                    jax.block_until_ready(loop(params, Xj, yj, n))
            else:
                def run(n):
                    p = params
                    for _ in range(n):
                        p, loss, accuracy = step(p, Xj, yj)
                    jax.block_until_ready(p)
            self.compile_seconds = _seconds(run, 1)  # the first call compiles
        run(3)  # warm-up
        self.run = run
        self.epochs = _calibrate(run, spec["target_seconds"])
        self.us = []

    def block(self):
        """Time one block of ``epochs`` epochs; return (and keep) its µs per epoch."""
        self.us.append(_seconds(self.run, self.epochs) / self.epochs * 1e6)
        return self.us[-1]

    def record(self):
        return {
            **{k: self.spec[k] for k in ("impl", "samples", "hidden", "dtype")},
            "epochs": self.epochs,
            "repeats": len(self.us),
            "us_per_epoch": statistics.median(self.us),
            "us_min": min(self.us),
            "us_max": max(self.us),
            "compile_s": self.compile_seconds,
            "peak_rss_mib": _peak_rss_mib(),
            "peak_rss_delta_mib": _peak_rss_mib() - self.rss_before,
            "blas": blas(),
        }


def blas():
    """The BLAS NumPy uses, as threadpoolctl sees it: library, version, threads, CPU kernel."""
    from threadpoolctl import threadpool_info

    return [{key: pool.get(key) for key in ("internal_api", "version", "num_threads",
                                             "threading_layer", "architecture")}
            for pool in threadpool_info() if pool["user_api"] == "blas"]


def serve(spec, commands=sys.stdin, out=sys.stdout):
    """Set up, say ``ready``; then time a block per ``run`` line; ``done`` prints the record.

    NumPy's BLAS runs ``spec["blas_threads"]`` threads (default 1: at these sizes a
    second thread mostly waits, and on a busy machine it spins).
    """
    import numpy  # noqa: F401  (threadpoolctl limits the BLAS libraries loaded so far)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(spec.get("blas_threads", 1), user_api="blas"):
        _serve(spec, commands, out)


def _serve(spec, commands, out):
    measurement = Measurement(spec)
    print(json.dumps({"ready": True, "epochs": measurement.epochs}), file=out, flush=True)
    for line in commands:
        if line.strip() == "run":
            print(measurement.block(), file=out, flush=True)
        elif line.strip() == "done":
            print(json.dumps(measurement.record()), file=out, flush=True)
            return
    # the commands ended without "done": the driver is gone (interrupted), and no
    # record is owed (there may be no block to take a median of)


def main(argv=None):
    """The worker process: ``serve`` the spec given as JSON. Ctrl-C is the driver's to
    answer (it says so in one line and ends its workers): a worker ignores it, so that no
    traceback of its own (JAX's callbacks among them) is printed."""
    import os
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        serve(json.loads((argv or sys.argv)[1]))
    except (KeyboardInterrupt, BrokenPipeError):
        os._exit(130)  # the driver is gone: at once, and quietly


#: How the driver starts a worker: the working folder is dropped from the path first, so
#: that a user's own bench.py or manual.py there cannot stand in for ours.
COMMAND = "import sys; del sys.path[0]; from bench.worker import main; main()"

if __name__ == "__main__":
    main()

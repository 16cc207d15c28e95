"""``nnfs-ref``: verify gradients against JAX, train the seed's network, time it, mutate it.

Subcommands import what they need when they run: ``nnfs-ref --help`` and
``nnfs-ref train`` never import JAX, and ``train`` imports matplotlib only
for ``--plot``.
"""

import argparse
import contextlib
import dataclasses
import json
import os
import sys

from nnfs_ref.options import (
    Parser,
    flag,
    image_file,
    integer,
    nonnegative_float,
    nonnegative_int,
    npz_file,
    number,
    output_file,
    positive_float,
    positive_int,
)


def cmd_check(args):
    """Check one user class against finite differences; exit 0 if it agrees, 1 if not."""
    from nnfs_ref import check_command

    try:
        return check_command.run(args)
    except check_command.UsageError as exc:
        print(f"nnfs-ref check: error: {exc}", file=sys.stderr)
        return 2


def default_jobs():
    """Two processes where there are two cores (verify's and mutants' work is mostly JAX
    compiling and pytest starting, one core each)."""
    return min(2, os.cpu_count() or 1)


def prepare_verify_worker():
    """The first task of verify's worker processes: import JAX and the cases while the
    main process does the same (``verify``'s own task then prepares JAX)."""
    from reference import verify  # noqa: F401


def cmd_verify(args):
    """Compare every manual class with its JAX reference; exit 0 if all agree, 1 if not."""
    from reference.runtime import process_pool, quick_compilation  # no JAX yet

    quick_compilation()  # before the workers start: they inherit it
    jobs = args.jobs or default_jobs()
    with contextlib.ExitStack() as stack:
        pool = None
        if jobs > 1:  # started before this process imports JAX: both import at once
            pool = stack.enter_context(process_pool(jobs - 1))
            for _ in range(jobs - 1):
                pool.submit(prepare_verify_worker)
        return _verify(args, jobs, pool)


def _verify(args, jobs, pool):
    from nnfs_ref.check.report import format_table
    from nnfs_ref.check.settings import Settings
    from reference import verify
    from reference.runtime import prepare_jax

    prepare_jax()
    settings = Settings.of(twin=True, rtol=args.rtol, scale_tol=args.scale_tol)
    rows = verify.run(seed=args.seed, examples=args.examples, settings=settings, jobs=jobs,
                      pool=pool)
    print(f"nnfs-ref verify: {verify.cases_text(args.examples)} per class (seed {args.seed}), "
          f"float64, an entry agrees when\n  |manual - jax| <= {settings.rtol:g}*|jax| + "
          f"{settings.scale_tol:g}*max|jax over the array|")
    print()
    print(format_table([row.as_dict() for row in rows]))
    for row in rows:
        if row.message is not None:
            print(f"  {row.cls} {row.name}: {row.message}")
    print()
    line = verify.verdict(rows, args.examples)
    print(line)
    ok = all(row.ok for row in rows)
    if args.json:
        record = {"seed": args.seed, "examples": args.examples, "rtol": settings.rtol,
                  "scale_tol": settings.scale_tol, "ok": ok, "verdict": line,
                  "rows": [row.as_dict() for row in rows]}
        with open(args.json, "w") as fh:
            json.dump(record, fh, indent=2)
    return 0 if ok else 1


def cmd_train(args, parser):
    """Train one of the book's tasks; exit 0, 1 if it diverged, 2 if misused (a bad option
    or a bad --load file)."""
    import numpy as np

    from nnfs_ref import train

    settings = {f.name: getattr(args, f.name) for f in dataclasses.fields(train.TrainConfig)
                if hasattr(args, f.name)}
    try:
        config = train.TrainConfig(**settings, nnfs_init=not args.no_nnfs_init)
        config.validate()
    except train.ConfigError as exc:
        parser.error(exc.worded(flag))
    initial = None
    if args.load:
        try:
            initial = train.load_parameters(args.load, config.parameter_shapes())
        except ValueError as exc:
            parser.error(f"argument --load: {exc}")
    if config.nnfs_init:
        import nnfs

        nnfs.init(random_seed=config.seed)
    else:
        np.random.seed(config.seed)
    try:
        result = train.train(config, initial=initial)
    except train.Diverged as exc:
        print(f"nnfs-ref train: error: {exc} (is --learning-rate {exc.learning_rate} too "
              "large?)", file=sys.stderr)
        return 1
    if args.save:
        train.save_parameters(args.save, result)
    options = ", ".join(f"{k.replace('_', ' ')} {v:g}"
                        for k, v in config.optimizer_options().items())
    if args.plot:
        train.plot(result, args.plot, title=f"nnfs-ref train --task {config.task}: "
                                            f"{config.epochs} epochs, {config.optimizer}"
                                            + (f" ({options})" if options else ""))
    if not config.quiet:
        print(f"nnfs-ref train: {config.task}, {config.optimizer}"
              + (f" ({options})" if options else "")
              + f", {config.epochs} epochs, final accuracy {result.accuracies[-1]:.3f}, "
              f"loss {result.losses[-1]:.3f}"
              + (f"; saved {args.save}" if args.save else "")
              + (f"; plotted {args.plot}" if args.plot else ""), file=sys.stderr)
    return 0


def cmd_bench(args):
    """Time the epoch loop of every implementation; print the table."""
    if args.checker:
        from bench import checker

        checker.main(repeats=args.repeats or 5)
        return 0
    from bench import run

    run.main(quick=args.quick, json_path=args.json, plot_path=args.plot,
             samples=args.samples or run.SAMPLES, hidden=args.hidden or run.HIDDEN,
             repeats=args.repeats, target_seconds=args.target_seconds,
             blas_threads=args.blas_threads)
    return 0


def cmd_mutants(args):
    """Plant each catalogued bug; exit 0 if the tests and verify catch every one, 1 if not."""
    from tqdm import tqdm

    from nnfs_ref import mutants
    from reference.runtime import prepare_jax

    prepare_jax()  # here, and in the test processes, which inherit the quick compilation

    if not args.tests and not os.path.isdir(mutants.DEFAULT_TESTS):
        print("nnfs-ref mutants: error: needs a checkout of the repository (it runs its "
              "tests), and no tests folder is beside the installed package "
              f"({mutants.DEFAULT_TESTS}): run it from a clone, or name the tests with --tests",
              file=sys.stderr)
        return 2
    paths = []
    for path in args.tests or [mutants.DEFAULT_TESTS]:
        if os.path.isdir(path):
            paths += mutants.default_tests(path)
        elif os.path.isfile(path):
            paths.append(path)
        else:
            print(f"nnfs-ref mutants: error: --tests {path}: no such file or folder",
                  file=sys.stderr)
            return 2
    if not paths:
        print(f"nnfs-ref mutants: error: no test files ({', '.join(mutants.DEFAULT_PATTERNS)}) "
              f"in {', '.join(args.tests or [mutants.DEFAULT_TESTS])}", file=sys.stderr)
        return 2
    print(f"nnfs-ref mutants: {len(mutants.CATALOG)} planted backward-pass bugs, each run "
          f"against {len(paths)} test files ({', '.join(os.path.basename(p) for p in paths)}) "
          f"and verify ({args.examples} cases per class)\n")
    with tqdm(total=len(mutants.CATALOG), file=sys.stderr, unit="mutant", leave=False,
              disable=not sys.stderr.isatty()) as progress:
        try:
            rows = mutants.run(paths, args.examples, progress=progress,
                               jobs=args.jobs or default_jobs())
        except mutants.BaselineError as exc:
            print(f"nnfs-ref mutants: error: {exc}", file=sys.stderr)
            return 2
    survivors = [r for r in rows if not (r["caught_by_tests"] and r["caught_by_verify"])]
    print()
    print(f"{len(rows) - len(survivors)} of {len(rows)} mutants caught by both the tests and "
          "verify" + ("." if not survivors else
                      ": SURVIVORS: " + "; ".join(r["mutant"] for r in survivors)))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=2)
    return 0 if not survivors else 1


def cmd_docs(args):
    """Regenerate the generated tables and figures of docs/."""
    from nnfs_ref import docs

    if not os.path.isdir(docs.DOCS):
        print("nnfs-ref docs: error: needs a checkout of the repository (it writes its "
              f"docs/), and none is beside the installed package ({docs.DOCS}): run it from a "
              "clone", file=sys.stderr)
        return 2
    try:
        docs.write(args.names)
    except ValueError as exc:
        print(f"nnfs-ref docs: error: {exc}", file=sys.stderr)
        return 2
    return 0


def _add_verify(sub):
    """The ``verify`` subcommand's parser."""
    verify = sub.add_parser(
        "verify",
        help="check every hand-written gradient against JAX autodiff, and the optimizers",
        description="Draw random cases for every manual class, compare forward outputs and "
                    "gradients with JAX autodiff (float64), run each optimizer for 25 steps "
                    "beside the book's rule in JAX and optax, print a table and a verdict. "
                    "Exit 0 when every gradient agrees, 1 otherwise.",
    )
    verify.add_argument("--seed", type=nonnegative_int, default=0,
                        help="random seed (default 0)")
    verify.add_argument("--examples", type=positive_int, default=20,
                        help="random cases per class (default 20)")
    verify.add_argument("--rtol", type=nonnegative_float, default=None,
                        help="relative tolerance (default 1e-9)")
    verify.add_argument("--scale-tol", type=nonnegative_float, default=None,
                        help="tolerance relative to the largest entry of each array "
                             "(default 1e-12)")
    verify.add_argument("--jobs", type=positive_int, default=None,
                        help="processes to run the cases in (default: 2 on a machine with 2 "
                             "or more cores, else 1)")
    verify.add_argument("--json", metavar="PATH", type=output_file,
                        help="also write the rows as JSON to PATH")
    verify.set_defaults(run=cmd_verify)


def _add_check(sub):
    """The ``check`` subcommand's parser."""
    check = sub.add_parser(
        "check",
        help="check your own layer or loss class against finite differences",
        description="Check the hand-written backward pass of your own class, written as the "
                    "book writes them: a layer (forward(inputs[, training]) sets .output; "
                    "backward(dvalues) sets .dinputs and d<param> for each parameter) or a "
                    "loss (forward(y_pred, y_true) returns sample losses; backward(dvalues, "
                    "y_true) sets .dinputs). Random inputs, parameters made nonzero, a random "
                    "upstream gradient, float64. Exit 0 when every gradient agrees, 1 when one "
                    "disagrees, 2 for a usage error, code that raised, or an object that "
                    "cannot be checked.",
        arguments=_check_arguments,
    )
    check.set_defaults(run=cmd_check)


def _check_arguments(parser):
    """``check``'s arguments, added when ``check`` is used (they import NumPy)."""
    from nnfs_ref import check_command

    check_command.add_arguments(parser)


def _add_train(sub):
    """The ``train`` subcommand's parser."""
    train = sub.add_parser(
        "train",
        help="train the seed's network (or the book's other tasks) with the manual classes",
        description="Train one of the book's tasks with the manual classes and print "
                    "'epoch: N, acc: A, loss: L' every --print-every epochs, as the seed does "
                    "(with '(data_loss: D, reg_loss: R)' when a regularizer is on and "
                    "', lr: X' with decay, as the book does). Tasks: spiral (the seed's: "
                    "Dense 2->H, ReLU, Dense H->C, softmax + CCE, SGD), binary (the book's "
                    "logistic regression: sigmoid + BCE, Adam), sine (the book's regression: "
                    "two hidden layers, linear + MSE, Adam). Options left out take the book's "
                    "settings for the task; with none at all the log is the seed's, line for "
                    "line.",
    )
    train.add_argument("--task", choices=("spiral", "binary", "sine"), default="spiral",
                       help="default spiral (the seed's)")
    train.add_argument("--epochs", type=integer, default=10001, help="default 10001")
    optimizer = train.add_argument_group(
        "optimizer", "Options left out take the book's values for the task and optimizer "
                     "(spiral: SGD, learning rate 0.5 as in the seed; binary: Adam, decay "
                     "5e-7; sine: Adam, learning rate 0.005, decay 1e-3), or else the "
                     "optimizer's defaults.")
    optimizer.add_argument("--optimizer", choices=("sgd", "adagrad", "rmsprop", "adam"),
                           help="default: the task's (see above)")
    optimizer.add_argument("--learning-rate", type=number,
                           help="initial learning rate (SGD's default 0.5 is the seed's; the "
                                "book's is 1.0)")
    optimizer.add_argument("--decay", type=number,
                           help="learning-rate decay: lr / (1 + decay * step) (default 0)")
    optimizer.add_argument("--momentum", type=number, help="sgd only (default 0)")
    optimizer.add_argument("--epsilon", type=number,
                           help="adagrad, rmsprop, adam (default 1e-7)")
    optimizer.add_argument("--rho", type=number, help="rmsprop only (default 0.9)")
    optimizer.add_argument("--beta-1", type=number, help="adam only (default 0.9)")
    optimizer.add_argument("--beta-2", type=number, help="adam only (default 0.999)")
    train.add_argument("--hidden", type=integer, default=64,
                       help="units per hidden layer (default 64)")
    train.add_argument("--samples", type=integer,
                       help="spiral/binary: points per class (default 100); sine: points "
                            "(default 1000)")
    train.add_argument("--classes", type=integer, help="spiral arms, spiral only (default 3)")
    train.add_argument("--l1", type=number, default=0.0,
                       help="L1 strength on the hidden layers' weights and biases (default 0)")
    train.add_argument("--l2", type=number,
                       help="L2 strength on the hidden layers' weights and biases (default: "
                            "5e-4 for binary, as in the book; 0 otherwise)")
    train.add_argument("--dropout", type=number, default=0.0, metavar="RATE",
                       help="a dropout layer of this rate after each hidden ReLU, active in "
                            "training only (default 0: none)")
    train.add_argument("--print-every", type=integer, default=100, help="default 100")
    train.add_argument("--seed", type=integer, default=0, help="random seed (default 0)")
    train.add_argument("--blas-threads", type=integer, default=1,
                       help="threads of NumPy's BLAS (default 1: on the book's small matrices "
                            "a second thread mostly waits, and on a busy machine it spins)")
    train.add_argument("--no-nnfs-init", action="store_true",
                       help="do not call nnfs.init() (float64, NumPy unpatched); the log then "
                            "differs from the seed's")
    train.add_argument("--quiet", action="store_true",
                       help="print nothing but errors (no log, no progress bar)")
    train.add_argument("--save", metavar="PATH.npz", type=npz_file,
                       help="write the trained parameters (np.savez, no pickle; .npz is added "
                            "to a name without it)")
    train.add_argument("--load", metavar="PATH.npz",
                       help="start from parameters written by --save")
    train.add_argument("--plot", metavar="PATH.png", type=image_file,
                       help="save loss/accuracy curves and the decision regions (any format "
                            "matplotlib writes; .png is added to a name without a suffix)")
    train.set_defaults(run=lambda args: cmd_train(args, train))


def _add_bench(sub):
    """The ``bench`` subcommand's parser."""
    bench = sub.add_parser(
        "bench",
        help="time one training epoch: the seed's code, manual/ and compiled JAX",
        description="Measure one training epoch (forward, loss, accuracy, backward, SGD "
                    "update) of the seed's code under nnfs.init(), the manual classes "
                    "(float32, float64) and the JAX reference (a jit-compiled fori_loop, and "
                    "a jit-compiled step called from Python), at the book's size and across "
                    "batch sizes and hidden widths. Each implementation runs in its own "
                    "process; they take turns, so ratios within one run are meaningful.",
    )
    bench.add_argument("--checker", action="store_true",
                       help="instead, time check_layer (seconds and forward calls) on layers "
                            "up to Layer_Dense(784, 64) with a batch of 32")
    bench.add_argument("--quick", action="store_true",
                       help="fewer implementations in the sweep, shorter blocks (< 2 min)")
    bench.add_argument("--samples", type=positive_int, nargs="+", metavar="N",
                       help="batch sizes to sweep (default 300 3000 30000)")
    bench.add_argument("--hidden", type=positive_int, nargs="+", metavar="H",
                       help="hidden widths to sweep (default 64 512)")
    bench.add_argument("--repeats", type=positive_int, help="timed blocks per measurement")
    bench.add_argument("--target-seconds", type=positive_float, metavar="S",
                       help="length of one timed block")
    bench.add_argument("--blas-threads", type=positive_int, default=1,
                       help="threads of NumPy's BLAS in the seed and manual workers (default "
                            "1; recorded in --json)")
    bench.add_argument("--json", metavar="PATH", type=output_file,
                       help="write one record per measurement")
    bench.add_argument("--plot", metavar="PATH.png", type=image_file,
                       help="draw the scaling chart")
    bench.set_defaults(run=cmd_bench)


def _add_mutants(sub):
    """The ``mutants`` subcommand's parser."""
    mutants = sub.add_parser(
        "mutants",
        help="plant realistic backward-pass bugs one at a time; show what catches each",
        description="Mutation testing: each catalogued bug (a small patch of one method of "
                    "manual/) is planted in turn and run against the property tests and "
                    "verify. Exit 0 when every mutant is caught by both, 1 otherwise.",
    )
    mutants.add_argument("--tests", nargs="+", metavar="PATH",
                         help="the test files to run each mutant against, or folders to take "
                              "test_manual_*.py, test_errata.py and test_network.py from "
                              "(default: the tests folder beside the package)")
    mutants.add_argument("--examples", type=positive_int, default=5,
                         help="verify's random cases per class (default 5)")
    mutants.add_argument("--jobs", type=positive_int, default=None,
                         help="mutants whose tests run at once, one process each (default: 2 "
                              "on a machine with 2 or more cores, else 1)")
    mutants.add_argument("--json", metavar="PATH", type=output_file,
                         help="write one record per mutant")
    mutants.set_defaults(run=cmd_mutants)


def _add_docs(sub):
    """The ``docs`` subcommand's parser."""
    from nnfs_ref.docs import GENERATORS  # no JAX, no matplotlib

    names = ", ".join(GENERATORS)
    docs = sub.add_parser(
        "docs",
        help=f"regenerate every table and figure in docs/ ({names})",
        description="Run the commands behind the tables and figures of docs/ and write their "
                    "output into the pages' generated blocks (about 16 minutes for all).",
    )
    docs.add_argument("names", nargs="*", metavar="NAME",
                      help=f"the blocks to regenerate (default all): {names}")
    docs.set_defaults(run=cmd_docs)


class _VersionAction(argparse.Action):
    """``--version``: print ``nnfs-ref X.Y.Z`` and exit, looking the version up only then
    (importlib.metadata takes 0.04 s, which every other command would pay)."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        from nnfs_ref import installed_version

        print(f"{parser.prog} {installed_version()}")
        parser.exit()


def main(argv=None):
    parser = Parser(
        prog="nnfs-ref",
        description="The nnfs book's network with hand-written gradients, proven against JAX.",
    )
    parser.add_argument("--version", action=_VersionAction,
                        help="show the program's version number and exit")
    parser.add_argument("--debug", action="store_true",
                        help="show the traceback of an unexpected error (a bug in nnfs-ref)")
    sub = parser.add_subparsers(dest="command", required=True)
    for add in (_add_verify, _add_check, _add_train, _add_bench, _add_mutants, _add_docs):
        add(sub)
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        print(f"nnfs-ref {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug of ours: one line, unless asked for the traceback
        if args.debug:
            raise
        print(f"nnfs-ref {args.command}: unexpected error: {type(exc).__name__}: {exc} "
              "(a bug in nnfs-ref; 'nnfs-ref --debug ...' shows the traceback)",
              file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())

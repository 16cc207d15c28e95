"""``nnfs-ref``: verify the hand-written gradients against JAX.

Subcommands import what they need when they run, so ``nnfs-ref --help``
does not pay for importing JAX.
"""

import argparse
import json
import sys


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _nonnegative_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative number, got {text}")
    return value


def cmd_verify(args):
    """Compare every manual class with JAX autodiff; exit 0 if all agree, 1 if not."""
    import reference
    from reference import verify

    reference.enable_x64()
    if args.rtol is None:
        args.rtol = reference.RTOL
    if args.scale_tol is None:
        args.scale_tol = reference.SCALE_TOL
    rows = verify.run(seed=args.seed, examples=args.examples, rtol=args.rtol,
                      scale_tol=args.scale_tol)
    print(f"nnfs-ref verify: {args.examples} random cases per class (seed {args.seed}), "
          f"float64, an entry agrees when\n  |manual - jax| <= {args.rtol:g}*|jax| + "
          f"{args.scale_tol:g}*max|jax over the array|")
    print()
    print(reference.format_table(rows))
    print()
    line = verify.verdict(rows, args.examples)
    print(line)
    if args.json:
        record = {"seed": args.seed, "examples": args.examples, "rtol": args.rtol,
                  "scale_tol": args.scale_tol, "ok": all(r["ok"] for r in rows), "verdict": line,
                  "rows": rows}
        with open(args.json, "w") as fh:
            json.dump(record, fh, indent=2)
    return 0 if all(r["ok"] for r in rows) else 1


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="nnfs-ref",
        description="The nnfs book's network with hand-written gradients, proven against JAX.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    verify = sub.add_parser(
        "verify",
        help="check every hand-written gradient against JAX autodiff",
        description="Draw random cases for every manual class, compare forward outputs and "
                    "gradients with JAX autodiff (float64), print a table and a verdict. "
                    "Exit 0 when every gradient agrees, 1 otherwise.",
    )
    verify.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    verify.add_argument("--examples", type=_positive_int, default=20,
                        help="random cases per class (default 20)")
    verify.add_argument("--rtol", type=_nonnegative_float, default=None,
                        help="relative tolerance (default reference.RTOL, 1e-9)")
    verify.add_argument("--scale-tol", type=_nonnegative_float, default=None,
                        help="tolerance relative to the largest entry of each array "
                             "(default reference.SCALE_TOL, 1e-12)")
    verify.add_argument("--json", metavar="PATH", help="also write the rows as JSON to PATH")
    verify.set_defaults(run=cmd_verify)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())

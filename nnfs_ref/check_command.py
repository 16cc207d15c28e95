"""``nnfs-ref check module:Class``: check a user's layer or loss from the command line.

Exit codes: 0 when every gradient agrees, 1 when one disagrees, 2 for a
usage error, for code that raised (its one-line message is printed), or
when the object cannot be checked.
"""

import importlib
import importlib.util
import inspect
import json
import os
import sys

import numpy as np

from nnfs_ref.check.search import PREDICTIONS, TARGETS  # how a loss's data are drawn


class UsageError(Exception):
    """A bad option or target: printed as one line, exit 2."""


def load_objects(spec, option="target"):
    """``module:Name`` (or ``module:forward,backward``; ``path/to/file.py:Name``) -> the
    objects named, or UsageError."""
    module_name, _, names = spec.rpartition(":")
    if not module_name or not names:
        raise UsageError(f"{option} must look like module:Class, module:forward,backward or "
                         f"path/file.py:Class, got {spec!r}")
    try:
        if module_name.endswith(".py") or os.sep in module_name or "/" in module_name:
            module = _load_file(module_name)
        else:
            sys.path.insert(0, os.getcwd())  # a user's module in the current folder
            module = importlib.import_module(module_name)
    except UsageError:
        raise
    except ImportError as exc:
        raise UsageError(f"cannot import {module_name!r}: {exc}") from None
    except Exception as exc:  # the user's module raised while importing
        raise UsageError(f"importing {module_name!r} raised {type(exc).__name__}: "
                         f"{str(exc).splitlines()[0] if str(exc) else ''}") from None
    found = []
    for name in names.split(","):
        try:
            found.append(getattr(module, name.strip()))
        except AttributeError:
            raise UsageError(f"module {module_name!r} has no {name.strip()!r}") from None
    return found


def _load_file(path):
    if not path.endswith(".py"):
        raise UsageError(f"{path!r} is not a .py file (give module:Class or file.py:Class)")
    if not os.path.isfile(path):
        raise UsageError(f"no file {path!r}")
    folder = os.path.dirname(os.path.abspath(path))
    sys.path.insert(0, folder)  # its own imports of modules beside it
    stem = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[stem] = module
    spec.loader.exec_module(module)
    return module


def parse_arguments(text):
    """``--args``: a JSON list (positional) or object (keywords)."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"--args must be JSON, e.g. '[4, 3]' or '{{\"rate\": 0.1}}'; got "
                         f"{text!r} ({exc.msg})") from None
    if isinstance(value, list):
        return value, {}
    if isinstance(value, dict):
        return [], value
    raise UsageError(f"--args must be a JSON list or object, got {text!r}")


def construct(cls, args, kwargs, seed=0):
    """``cls(*args, **kwargs)``, with one-line errors for a wrong call or a raising __init__.

    The constructor runs under ``seed``: NumPy's global random state is seeded (and put
    back after), and ``np.random.default_rng()`` called without a seed gets one, so that
    the same ``--seed`` gives the same weights and the same report.
    """
    if not callable(cls):
        raise UsageError(f"{cls!r} is not a class")
    try:
        inspect.signature(cls).bind(*args, **kwargs)
    except TypeError as exc:
        try:
            wanted = str(inspect.signature(cls))
        except (TypeError, ValueError):
            wanted = "(...)"
        given = json.dumps(kwargs) if kwargs else json.dumps(args)
        raise UsageError(f"{cls.__name__}{wanted} cannot take --args {given}: {exc}") from None
    except ValueError:
        pass  # no signature to check
    from nnfs_ref.check.contract import invoke

    state = np.random.get_state()
    make = np.random.default_rng

    def seeded(seed_=None, *rest, **kw):
        return make(seed if seed_ is None else seed_, *rest, **kw)
    np.random.seed(seed)
    np.random.default_rng = seeded
    try:
        return invoke(cls, "__init__", *args, **kwargs)
    finally:
        np.random.default_rng = make
        np.random.set_state(state)


def _shape(text, default):
    """One ``--shape`` (``text``: its values, a list when given several times), else
    ``default``; a class or a loss function takes one shape only."""
    if text is None:
        return default
    if isinstance(text, list):
        if len(text) > 1:
            raise UsageError(f"--shape given {len(text)} times ({' '.join(text)}): a class "
                             "takes one (a loss function takes one for its scores, then one "
                             "for each array argument after the targets; a forward,backward "
                             "pair one for each array argument)")
        return _shape(text[0], default)
    try:
        shape = tuple(int(n) for n in text.replace("x", ",").split(",") if n.strip())
    except ValueError:
        raise UsageError(f"--shape must be sizes like 8,5; got {text!r}") from None
    if len(shape) < 1 or min(shape) < 1:
        raise UsageError(f"--shape must be positive sizes like 8,5; got {text!r}")
    return shape


def random_argument(text, rng):
    """One array argument of a function pair from its ``--shape``: ``4,5`` a normal float
    array; ``int:4,5:10`` integers in [0, 10) (word indices, labels); ``bool:4,5`` a mask,
    about half true."""
    kind, _, rest = text.partition(":") if text.split(":")[0] in ("int", "bool") else \
        ("float", "", text)
    sizes, _, high = rest.partition(":")
    shape = _shape(sizes, None)
    if kind == "bool":
        return rng.random(shape) < 0.5
    if kind == "int":
        try:
            top = int(high) if high else 10
        except ValueError:
            top = 0
        if top < 1:
            raise UsageError(f"--shape {text}: int:SIZES:HIGH takes a positive HIGH, got "
                             f"{high!r}")
        return rng.integers(0, top, size=shape)
    return rng.standard_normal(shape)


def layer_inputs(layer, shape, rng):
    """Random inputs for a layer: ``--shape``, or batch 8 and the width its weights take."""
    from nnfs_ref.check.contract import array_slots

    if shape is None or len(shape) == 1:
        matrices = [s.get(layer) for s in array_slots(layer) if s.get(layer).ndim == 2]
        shape = (shape or (8,))[:1] + (matrices[0].shape[0] if matrices else 5,)
    return rng.standard_normal(shape)


def randomize_zero_arrays(layer, rng):
    """Zero biases hide bias bugs: give all-zero arrays random values; return their names."""
    from nnfs_ref.check.contract import array_slots

    names = []
    for slot in array_slots(layer):
        value = slot.get(layer)
        if value.size and not value.any():
            slot.set(layer, rng.standard_normal(value.shape).astype(value.dtype))
            names.append(str(slot))
    return names


def guess_loss_data(cls_name):
    """``(predictions, targets)`` kinds a loss's name suggests."""
    name = cls_name.lower()
    if "softmax" in name:
        return "logits", "labels"
    if "binary" in name or "bce" in name:
        return "unit", "binary"
    if "categorical" in name or "crossentropy" in name or "cce" in name:
        return "probabilities", "labels"
    return "values", "values"


def loss_data(predictions, targets, shape, rng):
    """Random ``(y_pred, y_true)`` of the given kinds, ``shape = (batch, outputs)``, made
    as the checker's search makes them (:func:`nnfs_ref.check.data.predictions_of`)."""
    from nnfs_ref.check import data

    batch, outputs = (shape + (3,))[:2] if len(shape) == 1 else shape[:2]
    raw = rng.standard_normal((batch, outputs)) * 2
    labels = rng.integers(0, outputs, size=batch)
    bits = rng.integers(0, 2, size=(batch, outputs)) * 1.0
    return (data.predictions_of(predictions, raw),
            data.targets_of(targets, labels, bits, rng.standard_normal((batch, outputs))))


def run(args):
    """The ``check`` subcommand; returns the exit code. Usage errors raise UsageError."""
    from nnfs_ref.check import UserCodeError, check_layer, check_loss

    objects = load_objects(args.target)
    positional, keywords = parse_arguments(args.args)
    options = dict(rtol=args.rtol, scale_tol=args.scale_tol, seed=args.seed, mode=args.mode)
    if len(objects) > 2:
        raise UsageError(f"give one class, one loss function or a forward,backward pair; got "
                         f"{len(objects)} names in {args.target!r}")
    if len(objects) == 2 or inspect.isfunction(objects[0]):
        if args.search:
            raise UsageError("--search takes a class; for functions give --shape and --seed")
        try:
            report = _check_functions(objects, args, positional, keywords, options)
        except (TypeError, ValueError) as exc:
            raise UsageError(str(exc)) from None
        return _finish(report, args)
    cls = objects[0]
    if not inspect.isclass(cls):
        raise UsageError(f"{args.target} is a {type(cls).__name__}, not a class or function")
    typed = bool(args.shape) and len(args.shape) == 1 and \
        args.shape[0].split(":")[0] in ("int", "bool")  # integer or boolean layer inputs
    shape = None if typed else _shape(args.shape, None)
    from nnfs_ref.check.adapters import is_loss
    from nnfs_ref.check.contract import parse_params

    params = parse_params(args.params)
    from nnfs_ref.check.engine import check_engine, is_engine

    if args.kind == "engine" or (args.kind == "auto" and is_engine(cls)):
        given = [flag for flag, value in (("--args", args.args != "[]"),
                                          ("--params", args.params), ("--shape", args.shape),
                                          ("--predictions", args.predictions),
                                          ("--targets", args.targets),
                                          ("--mode", args.mode != "auto")) if value]
        if given:
            raise UsageError(f"{', '.join(given)} cannot be used with an engine: its leaves "
                             "and expressions are made by check_engine (use --search N, "
                             "--seed, --rtol, --scale-tol, --json)")
        report = check_engine(cls, examples=args.search or 10, seed=args.seed,
                              rtol=args.rtol, scale_tol=args.scale_tol, target=args.target)
        return _finish(report, args)
    loss = args.kind == "loss" or (args.kind == "auto" and is_loss(cls))
    try:
        if args.search:
            from nnfs_ref.check import search

            found = search.search(cls, positional, keywords, loss=loss, examples=args.search,
                                  params=params, seed=args.seed, target=args.target,
                                  data=_data_kinds(args, cls) if loss else None,
                                  shrink_seconds=args.shrink_seconds)
            print(found.text)
            return found.exit_code
        obj = construct(cls, positional, keywords, args.seed)
        rng = np.random.default_rng(args.seed)
        if loss:
            predictions, targets = _data_kinds(args, cls)
            y_pred, y_true = loss_data(predictions, targets, _shape(args.shape, (8, 3)), rng)
            report = check_loss(obj, y_pred, y_true, **options, notes=[
                f"random {predictions} of shape {y_pred.shape}, {targets} targets "
                f"(seed {args.seed})"])
        else:
            randomized = randomize_zero_arrays(obj, rng)
            inputs = random_argument(args.shape[0], rng) if typed else \
                layer_inputs(obj, shape, rng)
            report = check_layer(obj, inputs, params=params, **options, notes=[
                f"random inputs of shape {inputs.shape} (seed {args.seed})"
                + (f"; all-zero {', '.join(randomized)} given random values "
                   "(zero biases hide bias bugs)" if randomized else "")])
    except UserCodeError as exc:
        print(f"nnfs-ref check: error: {exc}", file=sys.stderr)
        return 2
    except (TypeError, ValueError) as exc:  # the checker's own argument checks
        raise UsageError(str(exc)) from None
    return _finish(report, args)


def _finish(report, args):
    if report.verdict == "error":  # the user's code raised: an error, on stderr like the others
        print(f"nnfs-ref check: error: {report.error}", file=sys.stderr)
    else:
        print(report)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(report.as_dict(), fh, indent=2)
    return report.exit_code


def _check_functions(objects, args, positional, keywords, options):
    """A ``forward,backward`` pair on random arrays of each ``--shape``, or a loss function
    ``f(x, y) -> (loss, dx)`` on random scores and targets."""
    from nnfs_ref.check import UserCodeError, check_functions, check_loss_function

    rng = np.random.default_rng(args.seed)
    try:
        if len(objects) == 2:
            if not args.shape:
                raise UsageError("give --shape for each array argument of forward, in order "
                                 "(e.g. --shape 4,5 --shape 5,3 --shape 3)")
            arrays = [random_argument(text, rng) for text in args.shape]
            return check_functions(*objects, *arrays, *positional, **keywords, **options,
                                   notes=["random arrays " + ", ".join(
                                       f"{a.dtype} {a.shape}" for a in arrays)
                                       + f" (seed {args.seed})"])
        targets = args.targets or "labels"
        first, *more = args.shape or [None]
        x, y = loss_data(args.predictions or "values", targets, _shape(first, (8, 3)), rng)
        extra = [random_argument(text, rng) for text in more]
        return check_loss_function(objects[0], x, y, *extra, *positional, **options, notes=[
            f"random scores of shape {x.shape}, {targets} targets (seed {args.seed})"
            + "".join(f"; then {a.dtype} {a.shape}" for a in extra)])
    except UserCodeError as exc:  # raised before the check started
        raise UsageError(str(exc)) from None


def _data_kinds(args, cls):
    predictions, targets = guess_loss_data(cls.__name__)
    return args.predictions or predictions, args.targets or targets


def add_arguments(parser):
    """The ``check`` subcommand's options."""
    from nnfs_ref.check.numeric import ENTRYWISE_LIMIT
    from nnfs_ref.options import nonnegative_float, nonnegative_int, output_file, positive_int

    parser.add_argument("target", metavar="MODULE:CLASS",
                        help="your class: module:Class (a module importable from the current "
                             "folder) or path/to/file.py:Class; or a function pair "
                             "module:forward,backward (forward(*arrays, *args) -> (out, cache), "
                             "backward(dout, cache) -> gradients); or a loss function "
                             "module:loss (loss(x, y) -> (loss, dx))")
    parser.add_argument("--args", default="[]", metavar="JSON",
                        help="constructor arguments: a JSON list ('[4, 3]') or object "
                             "('{\"rate\": 0.1}') (default none); for a function pair, the "
                             "arguments after the arrays (e.g. '[{\"p\": 0.5, \"mode\": "
                             "\"train\", \"seed\": 0}]')")
    parser.add_argument("--params", metavar="NAMES",
                        help="the parameters, comma-separated (e.g. W,b or params[W]); "
                             "default: every array whose d<name> backward sets")
    parser.add_argument("--shape", metavar="B,N", action="append",
                        help="input shape of a layer (default 8 by the width its weights "
                             "take, or 8,5; one number sets the batch only), or (batch, "
                             "outputs) of a loss (default 8,3); for a function pair, once per "
                             "array argument, in order: 4,5 floats, int:4,5:10 integers in "
                             "[0, 10), bool:4,5 a mask; for a loss function, the scores' "
                             "shape, then one for each array argument after the targets")
    parser.add_argument("--kind", choices=("auto", "layer", "loss", "engine"), default="auto",
                        help="auto: an engine is a class with arithmetic operators and a "
                             "backward() that takes nothing (or no forward beside it); a loss "
                             "is a class whose backward takes (dvalues, y_true); else a layer")
    parser.add_argument("--predictions", choices=PREDICTIONS,
                        help="a loss's predictions (default from its name: softmax -> logits, "
                             "categorical -> probabilities, binary -> unit, else values)")
    parser.add_argument("--targets", choices=TARGETS,
                        help="a loss's targets (default from its name, as --predictions)")
    parser.add_argument("--mode", choices=("auto", "entries", "directions"), default="auto",
                        help="finite differences entry by entry or along random directions "
                             f"(auto: directions above {ENTRYWISE_LIMIT} entries)")
    parser.add_argument("--seed", type=nonnegative_int, default=0,
                        help="random seed (default 0)")
    parser.add_argument("--rtol", type=nonnegative_float, default=None,
                        help="relative tolerance (default 1e-7)")
    parser.add_argument("--scale-tol", type=nonnegative_float, default=None,
                        help="tolerance relative to each array's largest entry (default 1e-7)")
    parser.add_argument("--search", type=positive_int, metavar="N",
                        help="search N random shapes and values with Hypothesis for a failing "
                             "case, shrink it, and print it as a snippet you can run (an "
                             "engine: N examples of each expression, 10 by default)")
    parser.add_argument("--shrink-seconds", type=nonnegative_float, default=20.0,
                        metavar="S",
                        help="with --search: how long shrinking a failure may take before the "
                             "smallest failing case found so far is printed (default 20)")
    parser.add_argument("--json", metavar="PATH", type=output_file,
                        help="also write the report as JSON")

"""Mutation testing: proof that the tests and ``verify`` catch real backward-pass bugs.

Each mutant is a small textual patch of one method of :mod:`manual`: the
method's source with one snippet replaced, compiled in its module's namespace
and set on the class, in the process that runs the checks. ``nnfs-ref
mutants`` plants them one at a time and runs

- the property tests (pytest, in a subprocess that plants the mutant first;
  the derandomized ``mutants`` Hypothesis profile of ``tests/conftest.py``,
  which finds a failure without shrinking it; the mutated class's own test
  file first, stopping at the first failure), and
- ``verify`` (in process, a few random cases per class),

and reports which caught it. A mutant that survives either is a hole.
"""

import contextlib
import dataclasses
import importlib
import inspect
import os
import subprocess
import sys
import textwrap


@dataclasses.dataclass(frozen=True)
class Mutant:
    name: str
    target: str  # "module:Class.method" or "module:function"
    old: str
    new: str

    def describe(self):
        return f"{self.target.split(':')[1]}: {self.name}"

    @property
    def tests(self):
        """The test file of the mutated module, by the tests' naming: manual.layers ->
        test_manual_layers.py, manual._validate -> test_manual_validate.py (run first: it
        catches the mutant soonest)."""
        parts = self.target.split(":")[0].split(".")
        return "test_" + "_".join(part.lstrip("_") for part in parts) + ".py"


M = Mutant
CATALOG = [
    M("dinputs without the transpose (right shape only for square weights)",
      "manual.layers:Layer_Dense.backward",
      "np.dot(dvalues, self.weights.T)", "np.dot(dvalues, self.weights)"),
    M("dweights divided by the batch size (a spurious 1/N)",
      "manual.layers:Layer_Dense.backward",
      "np.dot(self.inputs.T, dvalues)", "np.dot(self.inputs.T, dvalues) / len(dvalues)"),
    M("dweights off by a relative 1e-6 (the smallest error the checks promise to catch)",
      "manual.layers:Layer_Dense.backward",
      "np.dot(self.inputs.T, dvalues)", "np.dot(self.inputs.T, dvalues) * (1 + 1e-6)"),
    M("dbiases a mean instead of a sum",
      "manual.layers:Layer_Dense.backward",
      "dvalues.sum(axis=0, keepdims=True)", "dvalues.mean(axis=0, keepdims=True)"),
    M("flattened dbiases (the seed's keepdims=0)",
      "manual.layers:Layer_Dense.backward",
      "dvalues.sum(axis=0, keepdims=True)", "dvalues.sum(axis=0)"),
    M("dbiases summed in float64 (float32 in, float64 out)",
      "manual.layers:Layer_Dense.backward",
      "dvalues.sum(axis=0, keepdims=True)", "dvalues.sum(axis=0, keepdims=True, dtype=np.float64)"),
    M("forward forgets the biases",
      "manual.layers:Layer_Dense.forward",
      "        self.output += self.biases", "        pass"),
    M("L1 gradient 0 at exactly 0 (np.sign) instead of the stated +1",
      "manual.layers:_add_penalty_gradient",
      "np.where(param < 0, -1.0, 1.0)", "np.sign(param)"),
    M("L2 gradient without the 2",
      "manual.layers:_add_penalty_gradient",
      "grad += 2 * l2 * param", "grad += l2 * param"),
    M("backward ignores the mask",
      "manual.layers:Layer_Dropout.backward",
      "same_shape(dvalues, self.inputs.shape) * self.mask",
      "same_shape(dvalues, self.inputs.shape).copy()"),
    M("gradient 1 at the kink (inputs >= 0)",
      "manual.activations:Activation_ReLU.backward",
      "(self.inputs > 0)", "(self.inputs >= 0)"),
    M("writes into dvalues in place",
      "manual.activations:Activation_ReLU.backward",
      "self.dinputs = dvalues * (self.inputs > 0).astype(dvalues.dtype)",
      "dvalues *= self.inputs > 0\n        self.dinputs = dvalues"),
    M("dinputs off by a relative 1e-6",
      "manual.activations:Activation_Softmax.backward",
      "self.dinputs = s * (dvalues - (dvalues * s).sum(axis=1, keepdims=True))",
      "self.dinputs = s * (dvalues - (dvalues * s).sum(axis=1, keepdims=True)) * (1 + 1e-6)"),
    M("right only for an all-ones upstream gradient",
      "manual.activations:Activation_Softmax.backward",
      "(dvalues * s).sum(axis=1, keepdims=True)", "dvalues.mean(axis=1, keepdims=True)"),
    M("drops the outer factor s",
      "manual.activations:Activation_Softmax.backward",
      "self.dinputs = s * (dvalues", "self.dinputs = (dvalues"),
    M("sums over the batch axis instead of the classes",
      "manual.activations:Activation_Softmax.backward",
      "(dvalues * s).sum(axis=1, keepdims=True)", "(dvalues * s).sum(axis=0, keepdims=True)"),
    M("forward without the max shift (overflows)",
      "manual.activations:Activation_Softmax.forward",
      "np.exp(self.inputs - self.inputs.max(axis=1, keepdims=True))", "np.exp(self.inputs)"),
    M("one-hot targets read with argmin for argmax (sparse labels unaffected)",
      "manual._validate:sparse_labels",
      "return np.argmax(y, axis=1)", "return np.argmin(y, axis=1)"),
    M("ignores the clip (the seed's -1/(N p))",
      "manual.losses:Loss_CategoricalCrossentropy.backward",
      "np.where(\n            inside, -1 / (samples * np.clip(confidences, CLIP_MIN, "
      "CLIP_MAX)), 0\n        )", "-1 / (samples * confidences)"),
    M("drops the 1/N",
      "manual.losses:Loss_CategoricalCrossentropy.backward",
      "-1 / (samples * np.clip(", "-1 / (np.clip("),
    M("dinputs off by a relative 1e-6",
      "manual.losses:Activation_Softmax_Loss_CategoricalCrossentropy.backward",
      "self.dinputs /= samples", "self.dinputs /= samples / (1 + 1e-6)"),
    M("drops the 1/N",
      "manual.losses:Activation_Softmax_Loss_CategoricalCrossentropy.backward",
      "        self.dinputs /= samples", "        pass"),
    M("sign error: onehot added, not subtracted",
      "manual.losses:Activation_Softmax_Loss_CategoricalCrossentropy.backward",
      "labels] -= 1", "labels] += 1"),
    M("writes into dvalues (the softmax output) in place",
      "manual.losses:Activation_Softmax_Loss_CategoricalCrossentropy.backward",
      "self.dinputs = dvalues.copy()", "self.dinputs = dvalues"),
    M("loss clipped as in the seed (its gradient is then not (s - y)/N)",
      "manual.losses:Activation_Softmax_Loss_CategoricalCrossentropy.forward",
      "sample_losses = np.log(sums) - shifted[labels, row_index(len(z))]",
      "sample_losses = -np.log(np.clip(self.output[row_index(len(z)), labels], "
      "CLIP_MIN, CLIP_MAX))"),
    M("derivative without the factor (1 - output)",
      "manual.activations:Activation_Sigmoid.backward",
      "dvalues * (1 - self.output) * self.output", "dvalues * self.output"),
    M("ignores the clip (the book's formula)",
      "manual.losses:Loss_BinaryCrossentropy.backward",
      "np.where(inside, -(y / pc - (1 - y) / (1 - pc)), 0)", "-(y / pc - (1 - y) / (1 - pc))"),
    M("the book's sign: sign(y - p)",
      "manual.losses:Loss_MeanAbsoluteError.backward",
      "np.sign(p - y)", "np.sign(y - p)"),
    M("drops the 2",
      "manual.losses:Loss_MeanSquaredError.backward",
      "-2 * (y - p)", "-(y - p)"),
    M("sign error: a step up the gradient",
      "manual.optimizers:Optimizer_SGD._update",
      "update = -self.current_learning_rate * grad", "update = self.current_learning_rate * grad"),
    M("momentum: the velocity is never stored",
      "manual.optimizers:Optimizer_SGD._update",
      "setattr(layer, MOMENTUMS[name], update)", "pass"),
    M("decay off by one step: lr / (1 + decay * (t + 1))",
      "manual.optimizers:_Optimizer.pre_update_params",
      "self.decay * self.iterations", "self.decay * (self.iterations + 1)"),
    M("Adagrad: epsilon inside the root (optax's form)",
      "manual.optimizers:Optimizer_Adagrad._update",
      "(np.sqrt(cache) + self.epsilon)", "np.sqrt(cache + self.epsilon)"),
    M("Adagrad: the cache kept on the optimizer, one for every layer",
      "manual.optimizers:Optimizer_Adagrad._update",
      "self._state(layer, CACHE[name], param)", "self._state(self, CACHE[name], param)"),
    M("RMSprop: the cache forgets the factor (1 - rho)",
      "manual.optimizers:Optimizer_RMSprop._update",
      "(1 - self.rho) * grad**2", "grad**2"),
    M("Adam: the uncorrected second moment in the denominator",
      "manual.optimizers:Optimizer_Adam._update",
      "np.sqrt(v_hat)", "np.sqrt(v)"),
    M("Loss.calculate: the sample losses summed instead of averaged",
      "manual.losses:Loss.calculate",
      "np.mean(self.forward(output, y))", "np.sum(self.forward(output, y))"),
    # the classic bugs of a small autograd engine (manual.engine), which check_engine names
    M("gradient assigned, not accumulated (= for +=): wrong for a node used twice",
      "manual.engine:Value.__mul__",
      "self.grad += other.data * out.grad\n            other.grad += self.data * out.grad",
      "self.grad = other.data * out.grad\n            other.grad = self.data * out.grad"),
    M("the power rule right for integer exponents only",
      "manual.engine:Value.__pow__",
      "self.data ** (exponent - 1)", "self.data ** (int(exponent) - 1)"),
    M("no reflected product (2.5 * v raises)",
      "manual.engine:Value.__rmul__",
      "return self * other", "return NotImplemented"),
    M("tanh's derivative from its input, not its output",
      "manual.engine:Value.tanh",
      "(1 - t ** 2)", "(1 - self.data ** 2)"),
    M("sigmoid's derivative from its input, not its output",
      "manual.engine:Value.sigmoid",
      "s * (1 - s) * out.grad", "self.data * (1 - self.data) * out.grad"),
    M("the topological sort visits a shared node twice",
      "manual.engine:Value.backward",
      "            if v not in seen:\n                seen.add(v)\n", "            if True:\n"),
    M("a broadcast operand's gradient not summed back to its shape",
      "manual.engine:Tensor.__add__",
      "self.grad += _unbroadcast(out.grad, self.data.shape)", "self.grad += out.grad"),
    M("matmul: the right operand's gradient g.T @ a, reshaped to fit",
      "manual.engine:Tensor.__matmul__",
      "(a.T @ g)", "(g.T @ a)"),
    M("sum over an axis: the gradient not expanded back along it",
      "manual.engine:Tensor.sum",
      "np.expand_dims(out.grad, axis)", "out.grad"),
    M("mean over an axis divided by every entry, not the axis's",
      "manual.engine:Tensor.mean",
      "count = self.data.size if axis is None else self.data.shape[axis]",
      "count = self.data.size"),
]
#: The tests a mutant is run against, by default: those of manual/ (test_manual_*.py),
#: the errata and the whole network, in the tests folder given. Train and bench run
#: in subprocesses that a planted mutant does not reach.
DEFAULT_PATTERNS = ("test_manual_*.py", "test_errata.py", "test_network.py")
#: The tests folder beside the package (a checkout's).
DEFAULT_TESTS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                             "tests")


def default_tests(tests_dir):
    """The test files :data:`DEFAULT_PATTERNS` find in ``tests_dir``, sorted."""
    import glob

    return sorted({path for pattern in DEFAULT_PATTERNS
                   for path in glob.glob(os.path.join(tests_dir, pattern))})


def _resolve(target):
    """``module:Class.method`` -> (module, Class, name); ``module:function`` -> (module,
    module, name)."""
    module_name, _, attr = target.partition(":")
    module = importlib.import_module(module_name)
    if "." not in attr:
        return module, module, attr
    class_name, _, method_name = attr.partition(".")
    return module, getattr(module, class_name), method_name


def mutate(mutant):
    """The mutated function of ``mutant.target``; ``ValueError`` if the patch does not apply."""
    module, cls, method_name = _resolve(mutant.target)
    source = inspect.getsource(getattr(cls, method_name))  # indented as in its class
    if source.count(mutant.old) != 1:
        raise ValueError(f"mutant {mutant.describe()!r}: its snippet occurs "
                         f"{source.count(mutant.old)} times in {mutant.target}, not once")
    mutated = textwrap.dedent(source.replace(mutant.old, mutant.new))
    namespace = dict(vars(module))
    exec(compile(mutated, f"<mutant of {mutant.target}>", "exec"), namespace)
    return namespace[method_name]


def _holders(owner, name):
    """Where ``owner.name`` is reachable: the owner, and for a module's function every
    module of :mod:`manual` that imported it by name."""
    original = owner.__dict__[name]
    if not inspect.ismodule(owner):
        return [owner]
    return [module for key, module in sorted(sys.modules.items())
            if (key == "manual" or key.startswith("manual."))
            and getattr(module, name, None) is original]


@contextlib.contextmanager
def planted(mutant):
    """Within the block, ``mutant.target`` is the mutated method (or function, wherever
    :mod:`manual` imported it)."""
    _, owner, name = _resolve(mutant.target)
    original = owner.__dict__[name]
    holders = _holders(owner, name)
    mutated = mutate(mutant)
    for holder in holders:
        setattr(holder, name, mutated)
    try:
        yield
    finally:
        for holder in holders:
            setattr(holder, name, original)


def caught_by_verify(mutant, examples=5, seed=0):
    """The ``cls.name`` rows of the first ``verify`` case draw that fails with the mutant
    planted (empty: it survived ``examples`` draws of every case).

    The cases of the mutated class run first, and the search stops at the first
    failing draw: a caught mutant costs a few cases, a survivor all of them.
    """
    import numpy as np

    from reference import enable_x64, verify

    enable_x64()
    owner = mutant.target.split(":")[1].split(".")[0]
    cases = sorted(verify.CASES, key=lambda case: not case.title.startswith(owner))
    rng = np.random.default_rng(seed)
    with planted(mutant), np.errstate(all="ignore"):
        for _ in range(examples):
            for case in cases:
                failing = [f"{r.cls}.{r.name}" for r in verify.run_case(case, rng) if not r.ok]
                if failing:
                    return failing
    return []


class BaselineError(RuntimeError):
    """The unmutated tests do not pass (or cannot run): no mutant result would mean anything."""


def _pytest(index, paths, cwd, workers="0", profile="mutants"):
    """Run pytest on ``paths`` in a fresh process, mutant ``index`` planted (None: none)."""
    plant = ("    sys.exit(pytest.main(sys.argv[1:]))\n" if index is None else
             f"    with mutants.planted(mutants.CATALOG[{index}]):\n"
             "        sys.exit(pytest.main(sys.argv[1:]))\n")
    code = ("import sys\ntry:\n    import pytest\n    from nnfs_ref import mutants\n"
            "except ImportError as exc:\n    print(f'cannot import: {exc}')\n    sys.exit(97)\n"
            "else:\n" + plant)
    env = {**os.environ, "HYPOTHESIS_PROFILE": profile, "PYTHONWARNINGS": "ignore"}
    return subprocess.run(
        [sys.executable, "-c", code, "-x", "-q", "-n", workers, "-p", "no:cacheprovider",
         "--no-header", "-rN", *paths], capture_output=True, text=True, env=env, cwd=cwd)


def _ordered(test_paths, first=None):
    """``test_paths`` with the file named ``first`` (if among them) at the front."""
    return sorted(test_paths, key=lambda path: os.path.basename(path) != first)


def _root(test_paths):
    """The folder to run pytest from: the parent of the tests' folder (the project)."""
    return os.path.dirname(os.path.dirname(os.path.abspath(test_paths[0])))


def baseline(test_paths):
    """Run the tests with no mutant planted; BaselineError unless every one passes."""
    if not test_paths:
        raise BaselineError("no test files to run the mutants against")
    # the fast profile: this run proves the tests run and pass unmutated; the full
    # suite runs after the mutants (.ci/run)
    result = _pytest(None, list(test_paths), _root(test_paths), workers="auto",
                     profile="fast")
    if result.returncode == 97:
        raise BaselineError(f"the tests cannot run: {result.stdout.strip()} (install the test "
                            "extras: pip install -e '.[test]')")
    if result.returncode != 0:
        tail = " ".join(result.stdout.strip().splitlines()[-1:])
        raise BaselineError(f"the unmutated tests do not pass (pytest exit "
                            f"{result.returncode}: {tail})")


def caught_by_tests(index, test_paths):
    """``(caught, first failing test)`` for mutant ``index``, run in a fresh process.

    Caught means a test really failed: pytest's exit status 1 with a failure
    reported. An error that stops the run (status 2 to 5, an import that fails)
    is not a catch.
    """
    mutant = CATALOG[index]
    result = _pytest(index, _ordered(test_paths, mutant.tests), _root(test_paths))
    failed = [line.split(" ")[1] for line in result.stdout.splitlines()
              if line.startswith("FAILED ")]
    first = _first_failure(result.stdout) or (failed[0] if failed else None)
    if result.returncode == 1 and first:
        return True, first
    if result.returncode == 0:
        return False, "all tests passed"
    return False, f"pytest exit {result.returncode}: {result.stdout[-300:]}"


def _first_failure(stdout):
    for line in stdout.splitlines():
        if line.startswith("_") and line.strip("_ ").startswith("test"):
            return line.strip("_ ")
    return None


def run(test_paths, examples=5, out=sys.stdout, progress=None, jobs=1):
    """Run the unmutated ``test_paths`` (BaselineError unless they pass), then plant every
    mutant; print and return one row per mutant.

    ``jobs`` pytest processes run at a time (each mutant's tests are a process of
    their own); ``verify``'s part runs in this process meanwhile.
    """
    import concurrent.futures

    baseline(test_paths)
    rows = []
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        by_tests = [pool.submit(caught_by_tests, index, test_paths)
                    for index in range(len(CATALOG))]
        for mutant, tested in zip(CATALOG, by_tests):  # progress moves mutant by mutant
            verified = caught_by_verify(mutant, examples)
            caught, test = tested.result()
            rows.append({"mutant": mutant.describe(), "target": mutant.target,
                         "caught_by_tests": caught, "first_failing_test": test,
                         "caught_by_verify": bool(verified), "verify_failures": verified})
            if progress:
                progress.update()
    print(format_table(rows), file=out)
    return rows


def format_table(rows):
    header = ("#", "mutant", "tests", "first failing test", "verify", "first failing check")
    lines = [(str(i + 1), r["mutant"], "caught" if r["caught_by_tests"] else "SURVIVED",
              r["first_failing_test"][:60], "caught" if r["caught_by_verify"] else "SURVIVED",
              (r["verify_failures"] or ["-"])[0][:60]) for i, r in enumerate(rows)]
    from nnfs_ref.table import format_rows

    return format_rows(header, lines)

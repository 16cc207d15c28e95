"""How a user's layer or loss is called: the book's contracts, detected rather than assumed.

Everything the checker does to a user's object goes through here:

- :func:`call` runs one method and turns a missing method or an exception
  into a :class:`UserCodeError` whose text is one line.
- :func:`forward_keywords` reads ``forward``'s signature: ``forward(inputs)``
  or the later chapters' ``forward(inputs, training)``, called with
  ``training=True``.
- :class:`Randomness` pins NumPy's global random state and every
  ``Generator``/``RandomState`` an object holds, so that a dropout mask is the
  same on every forward of a check.
- :func:`float64_numpy` lifts ``nnfs.init()``'s float32 patches of NumPy
  (``np.dot``, ``np.zeros``, ``np.eye``, ``np.random.randn``) for the check.
- :class:`Slot` addresses one array of an object (``weights``, or ``params['W']``
  in a dict) and the gradient ``backward`` sets for it (``dweights``,
  ``dparams['W']`` or ``grads['W']``).
- :func:`book_penalty` is the book's L1/L2 regularization of a layer.
"""

import contextlib
import copy
import dataclasses
import difflib
import inspect
import re

import numpy as np

#: Array attributes that are never parameters: ``dinputs`` pairs with ``inputs``.
NOT_PARAMETERS = frozenset({"inputs", "output", "dinputs"})
#: Dicts that may hold the gradients of a dict of parameters, besides ``d<name>``.
GRADIENT_DICTS = ("grads", "gradients")


class UserCodeError(Exception):
    """The user's object lacks what its contract needs, or its code raised.

    ``str()`` is one line that names the method, e.g. ``your backward raised
    ValueError: shapes (4,3) and (4,3) not aligned``.
    """


def one_line(exc):
    """``"TypeName: first line of the message"``."""
    text = str(exc).strip().splitlines()
    return type(exc).__name__ + (f": {text[0]}" if text else "")


def invoke(fn, what, *args, **kwargs):
    """``fn(*args, **kwargs)``; any exception is a UserCodeError "your <what> raised ...". A
    call that ``fn``'s signature cannot take is said to be the checker's call, not blamed
    on the code."""
    try:
        signature = inspect.signature(fn)
        signature.bind(*args, **kwargs)
    except TypeError:
        given = ", ".join(["array" if isinstance(a, np.ndarray) else type(a).__name__
                           for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()])
        name = getattr(fn, "__name__", what)
        owner = getattr(fn, "__self__", None)
        owner = "" if owner is None else (owner if inspect.isclass(owner)
                                          else type(owner)).__name__ + "."
        raise UserCodeError(f"the checker calls {name}({given}), which {owner}{name}"
                            f"{signature} cannot take") from None
    except ValueError:
        pass  # no signature to read: call it and see
    try:
        return fn(*args, **kwargs)
    except Exception as exc:  # the user's code may raise anything: name it in one line
        raise UserCodeError(f"your {what} raised {one_line(exc)}") from exc


#: The names each role's method goes by in the wild, in order of preference.
METHOD_NAMES = {
    "forward": ("forward", "forward_pass", "forward_propagation", "forward_prop", "fprop",
                "fwd"),
    "backward": ("backward", "backward_pass", "backward_propagation", "backward_prop",
                 "back_prop", "backprop", "backpropagate", "bprop", "bwd"),
}


def method_name(obj, role):
    """The name of ``obj``'s method for ``role`` (``"forward"``: ``forward``, ``forward_pass``,
    ``forward_propagation``...), or a UserCodeError that lists the methods it has."""
    for name in METHOD_NAMES.get(role, (role,)):
        if callable(getattr(obj, name, None)):
            return name
    raise UserCodeError(missing_method(obj, role))


def missing_method(obj, role):
    """``"X has no method backward() (its methods: bacward, forward; did you mean
    bacward?)"``."""
    cls = obj if inspect.isclass(obj) else type(obj)
    methods = sorted(name for name in dir(cls) if not name.startswith("_")
                     and callable(getattr(cls, name, None)))
    text = f"{cls.__name__} has no method {role}()"
    if not methods:
        return text + " (it has no methods)"
    close = difflib.get_close_matches(role, methods, n=1, cutoff=0.75)
    return text + f" (its methods: {', '.join(methods)}" + (
        f"; did you mean {close[0]}?)" if close else ")")


def call(obj, method, *args, **kwargs):
    """``obj.<method>(*args, **kwargs)`` under the method's own name (``forward_pass`` for
    ``"forward"``); a missing method or any exception is a UserCodeError. A call the
    method's signature cannot take is said to be the checker's, not blamed on the code."""
    name = method_name(obj, method)
    return invoke(getattr(obj, name), name, *args, **kwargs)


def positional_parameters(fn):
    """``(positional, parameters)`` of ``fn``'s signature: the parameters that can be given
    by position (a bound method's ``self`` excluded), and all of them by name; ``(None,
    {})`` where there is no signature to read (a builtin)."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):  # a builtin without a signature: assume it fits
        return None, {}
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return [p for p in sig.parameters.values() if p.kind in kinds], sig.parameters


def _is_training_flag(name):
    """``training``, ``_training``, ``is_training``, ``train``, ``train_mode``..."""
    return re.fullmatch(r"_*(is_?)?train(ing)?(_?mode)?", name.lower()) is not None


def forward_keywords(obj, what="forward(inputs) or forward(inputs, training)"):
    """The keywords ``forward`` is called with: ``{"training": True}`` when it takes a
    training flag, by whatever name (``_training``, ``is_training``, ``train``)."""
    name = method_name(obj, "forward")
    positional, parameters = positional_parameters(getattr(obj, name))
    flags = [p for p in parameters if _is_training_flag(p)]
    if flags:
        return {flags[0]: True}
    if positional is None:
        return {}
    required = [p.name for p in positional if p.default is inspect.Parameter.empty]
    if len(required) > 1 and what.startswith("forward(inputs)"):
        raise UserCodeError(f"{type(obj).__name__}.{name} takes ({', '.join(required)}): "
                            f"expected {what.replace('forward', name)}")
    return {}


def learning_rate_name(obj):
    """The name of ``backward``'s learning-rate argument (``backward(grad, learning_rate)``
    updates the parameters itself), or None: ``learning_rate``, ``lr``, ``eta``,
    ``step_size``, ``alpha``."""
    try:
        backward = getattr(obj, method_name(obj, "backward"))
        names = list(inspect.signature(backward).parameters)[1:]
    except (UserCodeError, TypeError, ValueError):
        return None
    return next((n for n in names if re.fullmatch(r"_*(learning_?rate|lr|eta|step_?size|alpha)",
                                                  n, re.IGNORECASE)), None)


#: Methods by which an object says that its gradients accumulate (``+=``) between resets.
RESETS = ("flush_gradients", "zero_grad", "zero_gradients", "zero_grads")


def accumulates(obj):
    """The name of ``obj``'s method that resets accumulated gradients, or None."""
    return next((name for name in RESETS if callable(getattr(obj, name, None))), None)


def _generators(objects):
    """Every ``Generator`` and ``RandomState`` held by an attribute of ``objects``."""
    found = []
    for obj in objects:
        for value in vars(obj).values() if hasattr(obj, "__dict__") else ():
            if isinstance(value, (np.random.Generator, np.random.RandomState)):
                found.append(value)
    return found


def _state(generator):
    if isinstance(generator, np.random.Generator):
        return copy.deepcopy(generator.bit_generator.state)
    return generator.get_state()


def _set_state(generator, state):
    if isinstance(generator, np.random.Generator):
        generator.bit_generator.state = copy.deepcopy(state)
    else:
        generator.set_state(state)


class Randomness:
    """The random state a forward pass may draw from, saved so it can be replayed.

    ``snapshot()`` returns the state now (NumPy's global one and that of every
    generator the objects hold); ``replay(snapshot)`` puts it back, so the next
    forward draws the same numbers. ``restore()`` puts back the state found
    at construction: a check leaves the caller's random streams as they were.
    """

    def __init__(self, objects):
        self.generators = _generators(objects)
        self.initial = self.snapshot()

    def snapshot(self):
        return np.random.get_state(), [_state(g) for g in self.generators]

    def replay(self, snapshot):
        global_state, states = snapshot
        np.random.set_state(global_state)
        for generator, state in zip(self.generators, states):
            _set_state(generator, state)

    def restore(self):
        self.replay(self.initial)

    def describe(self):
        held = f" and the {len(self.generators)} generator(s) it holds" if self.generators else ""
        return f"NumPy's global random state{held}"


def _true_numpy():
    """``(owner, name, original)`` for every NumPy function ``nnfs.init()`` replaces."""
    import numpy._core.multiarray as multiarray
    import numpy.lib._twodim_base_impl as twodim

    return [(np, "dot", multiarray.dot), (np, "zeros", multiarray.zeros),
            (np, "eye", twodim.eye), (np.random, "randn", np.random.mtrand._rand.randn)]


@contextlib.contextmanager
def float64_numpy():
    """Lift ``nnfs.init()``'s float32 patches of NumPy inside the block; yield their names.

    ``nnfs.init()`` makes ``np.dot`` return float32 (and ``np.zeros``,
    ``np.eye``, ``np.random.randn`` default to it): finite differences of a
    float32 forward are rounding noise. The patches are put back on exit.
    """
    lifted = []
    for owner, name, original in _true_numpy():
        current = getattr(owner, name)
        if current != original:
            lifted.append((owner, name, current))
            setattr(owner, name, original)
    try:
        yield [f"np.{'random.' if owner is np.random else ''}{name}" for owner, name, _ in lifted]
    finally:
        for owner, name, current in lifted:
            setattr(owner, name, current)


@dataclasses.dataclass(frozen=True)
class Slot:
    """One array of an object: ``attr`` itself, or ``attr[key]`` when ``attr`` is a dict
    (or a list, ``key`` its index)."""

    attr: str
    key: object = None

    def __str__(self):
        return self.attr if self.key is None else f"{self.attr}[{self.key!r}]"

    def get(self, obj):
        value = getattr(obj, self.attr, None)
        if self.key is None:
            return value
        if isinstance(value, list):
            return value[self.key] if isinstance(self.key, int) and self.key < len(value) \
                else None
        return value.get(self.key) if isinstance(value, dict) else None

    def set(self, obj, value):
        if self.key is None:
            setattr(obj, self.attr, value)
        else:
            getattr(obj, self.attr)[self.key] = value

    def gradient_slots(self, obj):
        """Where ``backward`` may store this array's gradient, in order of preference."""
        if self.key is None:
            return [Slot("d" + self.attr)]
        return [Slot("d" + self.attr, self.key)] + [
            Slot(name, self.key) for name in GRADIENT_DICTS
            if isinstance(getattr(obj, name, None), (dict, list))]

    @property
    def gradient_name(self):
        return f"d{self.attr}" if self.key is None else f"d{self.attr}[{self.key!r}]"


#: Short names of what an array is: ``W`` and ``weights`` are both a weight.
_SHORT = {"w": "weight", "b": "bias", "x": "input", "biase": "bias"}


def array_key(name):
    """What an array's name says it is, for matching gradients to arrays: ``weights``,
    ``weight``, ``W``, ``_w`` -> ``"weight"``; ``inputs``, ``x`` -> ``"input"``."""
    key = name.lstrip("_").lower()
    if len(key) > 3 and key.endswith("s"):
        key = key[:-1]
    return _SHORT.get(key, key)


def gradient_key(name):
    """The :func:`array_key` of the array a gradient's name is about, or None: ``dweights``,
    ``d_weights``, ``dWeights``, ``dweight``, ``_dw``, ``grad_W``, ``W_grad``,
    ``weights_gradient``, ``dL_dW``, ``dLdW`` -> ``"weight"``; ``dinputs``, ``d_input``,
    ``dx`` -> ``"input"``."""
    bare = name.lstrip("_")
    for pattern in (r"d(?:L|loss)_?d_?(.+)", r"d_?(.+)", r"grad_?(.+)", r"(.+?)_?grad(ient)?s?"):
        match = re.fullmatch(pattern, bare, flags=re.IGNORECASE)
        if match and match.group(1):
            return array_key(match.group(1))
    return None


def written_arrays(obj, before):
    """The names of the float arrays ``obj`` holds that the call since ``before`` (from
    :func:`snapshot_values` of :func:`attribute_slots`) set: new ones, or new values."""
    return [name for name, value in vars(obj).items()
            if is_float_array(value) and was_set(obj, Slot(name), before)] \
        if hasattr(obj, "__dict__") else []


def attribute_slots(obj):
    """A slot for every array attribute of ``obj`` (to see afterwards what a call set)."""
    return [Slot(name) for name, value in vars(obj).items() if isinstance(value, np.ndarray)] \
        if hasattr(obj, "__dict__") else []


def gradient_among(obj, names, key, shape, prefer):
    """The name among ``names`` (attributes of ``obj``) whose gradient key is ``key``:
    ``prefer`` (the book's name) if there, else one holding an array of ``shape``, else
    the first; None when none matches."""
    matching = [n for n in names if gradient_key(n) == key]
    if prefer in matching:
        return prefer
    fitting = [n for n in matching if np.shape(getattr(obj, n)) == tuple(shape)]
    return (fitting or matching or [None])[0]


def is_float_array(value):
    return isinstance(value, np.ndarray) and value.dtype.kind == "f"


def array_slots(obj):
    """Every float array an object holds: its attributes, and the entries of its dicts."""
    slots = []
    for name, value in vars(obj).items() if hasattr(obj, "__dict__") else ():
        if is_float_array(value) and name not in NOT_PARAMETERS:
            slots.append(Slot(name))
        elif isinstance(value, dict) and name not in GRADIENT_DICTS and not name.startswith("d"):
            slots += [Slot(name, key) for key, v in value.items() if is_float_array(v)]
        elif isinstance(value, list) and value and all(map(is_float_array, value)) \
                and name not in GRADIENT_DICTS and not name.startswith("d"):
            slots += [Slot(name, index) for index in range(len(value))]
    return slots


def parse_params(params):
    """``params=`` as a list of names: a comma-separated string is split (``"W,b"``)."""
    if isinstance(params, str):
        return [p.strip() for p in params.split(",") if p.strip()]
    return params


def parse_slot(text):
    """``"W"`` -> Slot("W"); ``"params[W]"`` or ``"params['W']"`` -> Slot("params", "W")."""
    text = text.strip()
    if text.endswith("]") and "[" in text:
        attr, _, key = text[:-1].partition("[")
        return Slot(attr, key.strip("'\""))
    return Slot(text)


def snapshot_values(obj, slots):
    """The objects at ``slots`` and copies of them (None where missing), to see what a
    call changed."""
    return {slot: (slot.get(obj), None if slot.get(obj) is None
                   else np.array(slot.get(obj), copy=True)) for slot in slots}


def was_set(obj, slot, before):
    """Whether the call since ``before`` (from :func:`snapshot_values`) set ``slot``:
    a new object there, or new values written into the old one."""
    value = slot.get(obj)
    if value is None:
        return False
    old, old_copy = before.get(slot, (None, None))
    if old is None or value is not old:
        return True
    value = np.asarray(value)
    return value.shape != old_copy.shape or not np.array_equal(value, old_copy, equal_nan=True)


#: A regularizer strength's name: the book's ``weight_regularizer_l1`` and the spellings
#: of the wild (``weight_L1``, ``weight_regulariser_l2``, ``weight_reg_l2``, ``bias_l2``).
STRENGTH = re.compile(r"(weight|bias)_?(regulari[sz]er|regularization|reg)?_?l([12])",
                      re.IGNORECASE)
#: Words of a number that may be a penalty strength the checker does not read.
PENALTY_WORDS = ("l1", "l2", "reg", "lambda", "decay", "penalty")


def _strengths(obj):
    """``[(attribute, "weight" or "bias", 1 or 2, value)]`` of the strengths ``obj`` holds."""
    found = []
    for name, value in vars(obj).items() if hasattr(obj, "__dict__") else ():
        match = STRENGTH.fullmatch(name)
        if match and isinstance(value, (int, float)) and not isinstance(value, bool):
            found.append((name, match.group(1).lower(), int(match.group(3)), float(value)))
    return found


def _parameter_named(obj, key):
    """The attribute holding the array that ``key`` (``"weight"``, ``"bias"``) names:
    ``weights``, else one whose :func:`array_key` is ``key`` (``W``)."""
    book = {"weight": "weights", "bias": "biases"}[key]
    if is_float_array(getattr(obj, book, None)):
        return book
    return next((name for name, value in vars(obj).items()
                 if is_float_array(value) and array_key(name) == key), None)


def book_regularizers(obj):
    """``{param: (l1, l2)}`` for the nonzero strengths of the book's penalties an object
    holds, under the book's names or the wild's (:data:`STRENGTH`), ``param`` being the
    attribute they apply to (``weights``, or ``W``)."""
    found = {}
    for _, key, order, value in _strengths(obj):
        param = _parameter_named(obj, key)
        if value and param is not None:
            l1, l2 = found.get(param, (0.0, 0.0))
            found[param] = (value, l2) if order == 1 else (l1, value)
    return found


def strength_names(obj):
    """The strengths read under a name that is not the book's (for the report's note)."""
    return [name for name, _, _, value in _strengths(obj)
            if value and not re.fullmatch(r"(weight|bias)_regularizer_l[12]", name)]


def unread_strengths(obj):
    """Nonzero numbers whose names suggest a penalty the checker does not read
    (``weight_decay``, ``lambda_``): each gets a warning, never silence."""
    read = {name for name, *_ in _strengths(obj)}
    return [(name, value) for name, value in (vars(obj).items() if hasattr(obj, "__dict__")
                                              else ())
            if name not in read and isinstance(value, (int, float))
            and not isinstance(value, bool) and value
            and any(word in name.lower() for word in PENALTY_WORDS)]


def numbers(*sources):
    """``((name, value), ...)``: the float numbers of objects' attributes and of dicts (a
    temperature, a dropout rate, an option ``p``), for tying a diagnosed factor to them."""
    found = []
    for source in sources:
        items = source.items() if isinstance(source, dict) else \
            vars(source).items() if hasattr(source, "__dict__") else ()
        found += [(str(name), float(value)) for name, value in items
                  if isinstance(value, float) and np.isfinite(value)]
    return tuple(found)


def book_penalty(obj):
    """The book's penalty: ``l1 * sum|p| + l2 * sum p**2`` for each penalized array."""
    total = 0.0
    for param, (l1, l2) in book_regularizers(obj).items():
        values = np.asarray(getattr(obj, param), dtype=np.float64)
        total += l1 * np.sum(np.abs(values)) + l2 * np.sum(values * values)
    return total


def describe_regularizers(found):
    return ", ".join(f"{param}: " + " + ".join(
        f"{kind} {value:g}" for kind, value in (("L1", l1), ("L2", l2)) if value)
        for param, (l1, l2) in found.items())

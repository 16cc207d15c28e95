"""nnfs_ref.check.session: what every check does around its objectives."""

import numpy as np
import pytest

from nnfs_ref.check.contract import Slot, UserCodeError
from nnfs_ref.check.session import CannotCheck, Session, as_float64
from nnfs_ref.check.settings import Settings


class Holder:
    def __init__(self):
        self.weights = np.ones((2, 2), dtype=np.float32)


def session(notes=()):
    return Session("Holder", "an oracle", Settings(), [], notes)


def test_arrays_are_float64_copies_during_the_check_and_put_back_after():
    holder, seen = Holder(), {}
    original = holder.weights
    s = session()

    def body():
        s.lift(holder, [Slot("weights")])
        seen["dtype"] = holder.weights.dtype
        holder.weights[0, 0] = 7.0  # the check's own copy
        return [], {}

    report = s.run(body)
    assert seen["dtype"] == np.float64
    assert holder.weights is original and original[0, 0] == 1.0
    assert report.notes == ["float32 arrays weights checked as float64 copies"]


def test_the_arrays_are_put_back_and_the_random_state_restored_when_the_user_code_raises():

    holder = Holder()
    original = holder.weights
    state = np.random.get_state()[1].copy()
    s = session()

    def body():
        s.lift(holder, [Slot("weights")])
        np.random.random(5)  # the user's forward draws
        raise UserCodeError("your forward raised ValueError: no")

    report = s.run(body)
    assert (report.verdict, report.error, report.exit_code) == \
        ("error", "your forward raised ValueError: no", 2)
    assert holder.weights is original
    assert np.array_equal(np.random.get_state()[1], state)


def test_cannot_check_is_its_own_verdict():
    report = session().run(lambda: (_ for _ in ()).throw(CannotCheck("forward is random")))
    assert (report.verdict, report.summary()) == ("cannot check",
                                                  "CANNOT CHECK: forward is random")


def test_handed_arrays_get_unchanged_rows_and_the_caller_notes_come_first():
    s = session(notes=["random inputs"])
    x = np.arange(4.0)

    def body():
        copy, = s.hand(inputs=x)
        s.note_first("called as forward(inputs, training=True)")
        s.notes.append("a later note")
        x[1] = 99.0  # the user's code writes into its argument
        assert copy[1] == 1.0
        return [], {}

    report = s.run(body)
    assert [c.name for c in report.checks] == ["inputs unchanged"]
    assert not report.checks[0].ok and report.checks[0].worst_index == (1,)
    assert report.notes == ["random inputs", "called as forward(inputs, training=True)",
                            "a later note"]


def test_a_random_forward_is_pinned_by_replay_or_refused():
    s = session()

    def body():
        out, random = s.pin(lambda replay: np.random.random(3) if not replay else
                            np.zeros(3), "never")
        assert random and np.array_equal(out, np.zeros(3))
        with pytest.raises(CannotCheck, match="unpinnable"):
            s.pin(lambda replay: np.random.random(3), "unpinnable")
        return [], {}

    assert s.run(body).verdict == "ok"


@pytest.mark.parametrize("value, error, words", [
    ("abc", TypeError, "inputs must be a numeric array, got str"),
    (np.ones(0), ValueError, r"inputs must be a non-empty array, got shape \(0,\)"),
    (3.0, ValueError, r"inputs must be a non-empty array, got shape \(\)"),
    ([1.0, np.nan], ValueError, "inputs must be finite, got 1 nan/inf entries"),
])
def test_bad_inputs_are_refused_by_name(value, error, words):
    with pytest.raises(error, match=words):
        as_float64(value, "inputs")

"""The stress suite (:mod:`bench.stress`): no false alarm, no resolvable bug passed.

Each case is correct code at a point where finite differences are hard; each
has bugs planted in it (relative errors of 1e-5 in one entry and in all,
zero and doubled biases, a tied max-pool window's gradient given to every
tied entry). A plant that the oracle's own error bound cannot resolve (10
times below it) is not counted, and the suite requires there be none.
"""

import numpy as np
import pytest

import nnfs_ref.check as checker
from bench import stress

CASES = stress.cases()


@pytest.mark.parametrize("case", CASES, ids=[c.label for c in CASES])
def test_correct_code_passes_and_every_planted_bug_fails(case):
    outcome = stress.run_case(case, checker)
    assert outcome.verdict == "ok", outcome.summary
    assert outcome.missed == []
    assert outcome.unresolved == []
    assert outcome.caught == outcome.planted > 0


def test_the_suite_covers_what_it_claims():
    labels = " | ".join(c.label for c in CASES)
    for words in ("|x|~0.001", "|x|~1000", "|W|~1000", "b=0, batch 1", "batch 512",
                  "logits up to 1e3", "saturated", "BCE next to and at its clip points",
                  "CCE", "targets 1e4", "constant column", "float32", "tied"):
        assert words in labels


def test_a_tied_window_given_twice_is_named_as_a_joint_violation():
    case = next(c for c in CASES if c.label.startswith("MaxPool"))
    _, (x,) = case.make()
    report = checker.check_layer(stress.EveryTiedMax(), x)
    assert report.verdict == "fail"
    text = str(report)
    assert "sit at one kink that couples them (a tie?)" in text
    assert "did each take all of it?" in text
    good = checker.check_layer(stress.MaxPool(), x)
    assert good.ok and good.kinks > 0, str(good)


def test_relu_zeros_with_mixed_cotangents_are_not_a_joint_violation():
    # f = sum(d * relu(x)) is separable: each zero's interval is the whole truth, whatever
    # the signs of d (a joint test over all zeros would reject the valid choice 0)
    x = np.zeros((1, 6))
    report = checker.check_layer(stress.ReLU(), x, seed=3)
    assert report.ok, str(report)
    assert report.kinks == 6


def test_under_nnfs_init_in_a_process_of_its_own():
    # nnfs.init() patches NumPy for the whole process: never in the tests' own
    import os
    import subprocess
    import sys

    script = ("import nnfs; nnfs.init()\n"
              "import numpy as np\n"
              "import nnfs_ref.check as checker\n"
              "from bench import stress\n"
              "assert np.dot(np.ones((2, 2)), np.ones((2, 2))).dtype == np.float32\n"
              "for label in ('np.dot', 'ReLU, |x|~1e3', 'softmax', 'b=0, batch 1'):\n"
              "    for o in stress.run(checker, label):\n"
              "        print(o.verdict, o.caught, o.planted, len(o.missed), o.label)\n")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=root, env={**os.environ, "PYTHONPATH": root})
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) >= 12
    for line in lines:
        verdict, caught, planted, missed, label = line.split(" ", 4)
        assert (verdict, missed) == ("ok", "0") and caught == planted != "0", line

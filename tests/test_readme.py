"""The README's worked example prints what the README shows (no pasted output drifts)."""

import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_the_check_example_prints_its_shown_output():
    text = open(os.path.join(ROOT, "README.md")).read()
    section = text.split("## Check your own layer", 1)[1]
    code, shown = re.findall(r"```(?:python|text)\n(.*?)```", section, re.S)[:2]
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": ROOT})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == shown.strip()


def test_the_function_pairs_example_prints_what_its_comments_say():
    text = open(os.path.join(ROOT, "docs", "function-pairs.md")).read()
    code = re.findall(r"```python\n(.*?)```", text, re.S)[0]
    said = [line.split("#", 1)[1].strip() for line in code.splitlines()
            if line.startswith("print(") and "#" in line]
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": ROOT})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines() == said

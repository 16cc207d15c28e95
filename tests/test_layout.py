"""docs/layout.md lists every module of the project with its purpose, and the tests mirror
the checker's modules."""

import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGES = ("manual", "reference", "nnfs_ref", "bench")


def modules():
    found = set()
    for package in PACKAGES:
        for folder, _, files in os.walk(os.path.join(ROOT, package)):
            found |= {os.path.relpath(os.path.join(folder, f), ROOT).replace(os.sep, "/")
                      for f in files if f.endswith(".py")}
    return found


def listed():
    """``{path: purpose}`` of the table's rows."""
    with open(os.path.join(ROOT, "docs", "layout.md")) as fh:
        rows = re.findall(r"^\| `([^`]+)`[^|]* \| (.*) \|$", fh.read(), re.MULTILINE)
    return dict(rows)


def test_every_module_is_listed_with_a_purpose_and_every_row_exists():
    rows = listed()
    table = {path for path in rows if path.endswith(".py")}
    assert sorted(modules() - table) == [], "modules missing from docs/layout.md"
    assert sorted(table - modules()) == [], "rows of docs/layout.md with no module"
    assert all(purpose.strip() for purpose in rows.values())


def test_each_module_of_the_checker_has_its_own_test_file():
    checker = sorted(os.path.splitext(os.path.basename(m))[0] for m in modules()
                     if m.startswith("nnfs_ref/check/") and not m.endswith("__init__.py"))
    missing = [m for m in checker
               if not os.path.exists(os.path.join(ROOT, "tests", f"test_check_{m}.py"))]
    assert missing == []


def test_the_checker_imports_neither_jax_nor_the_other_packages():
    code = ("import sys\nimport nnfs_ref.check, nnfs_ref.check.search, nnfs_ref.check.twin\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & "
            "{'jax', 'manual', 'reference', 'bench', 'hypothesis'}))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"

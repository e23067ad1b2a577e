"""`make test` runs on two workers with whole modules as units of work (tests/conftest.py): a module's
stacks start once, and the modules that embed the same shared texts run on one worker, one after the other."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import defaultdict

from tests.conftest import HEAVIEST_FIRST, ROOT, SHARED_UNITS, xdist_unit


def test_a_tests_unit_is_its_module_or_the_unit_its_module_shares():
    assert xdist_unit("tests/queue/test_board.py::test_a[sqlite]") == "tests/queue/test_board.py"
    assert xdist_unit("tests/test_legal_conversation.py::test_x") == "legal-library"
    assert xdist_unit("tests/retrieval/test_legal_eval_shared.py::test_y[authored]") == "legal-library"
    # a renamed module would lose its unit or its place
    assert all((ROOT / module).is_file() for module in [*SHARED_UNITS, *HEAVIEST_FIRST])


def test_every_module_runs_whole_on_one_worker():
    modules = ["tests/retrieval/test_decision_figures.py", "tests/motcua/test_status_texts.py"]
    done = subprocess.run([sys.executable, "-m", "pytest", "-n", "2", "--dist", "loadgroup", "-v", "-p", "no:cacheprovider",
                           *modules], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:]
    workers: dict[str, set[str]] = defaultdict(set)
    for worker, nodeid in re.findall(r"\[(gw\d+)\] \[\s*\d+%\] PASSED (\S+)", done.stdout):
        workers[nodeid.split("::")[0]].add(worker)
    assert set(workers) == set(modules), done.stdout[-3000:]
    assert all(len(w) == 1 for w in workers.values()), dict(workers)
    assert set.union(*workers.values()) == {"gw0", "gw1"}  # and both workers had one

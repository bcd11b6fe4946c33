"""The static check of solution cells: does a cell hand the work to edu's reference?"""

from pathlib import Path

import nbformat
import pytest

from edu.grading._static import scan_cell

FLAGGED = {
    "direct import": "from edu.sparse import soft_threshold\ndef f(v, t):\n    return 0",
    "private module import": "from edu.sparse._prox import soft_threshold",
    "private helper": "from edu.sparse._prox import _largest_magnitudes",
    "star import": "from edu.sparse import *",
    "module attribute": "import edu.sparse\nf = edu.sparse.soft_threshold",
    "aliased module": "import edu.prune as p\nf = p.prune_by_percentage",
    "alias of a function": "from edu.quant import quantize_weights as q",
    "prune_model does the same": "from edu.prune import prune_model",
    "inspect.getsource": "import inspect, edu.sparse\nsrc = inspect.getsource(edu.sparse)",
    "importlib": "import importlib\nm = importlib.import_module('edu.sparse')",
    "exec of a file": "exec(open('/somewhere/_prox.py').read())",
    "__import__": "m = __import__('edu.sparse')",
    "sys.modules": "import sys\nf = sys.modules['edu.sparse'].__dict__",
    "reading source text": "from pathlib import Path\ns = Path('x.py').read_text()",
    "sys.meta_path": "import sys\nsys.meta_path.clear()\nimport torch",
    "sys.path_hooks": "import sys\nsys.path_hooks.insert(0, print)",
    "torch registrations": "import edu\nedu._TORCH_LIBRARY._destroy()",
}

CLEAN = {
    "numpy only": "import numpy as np\ndef f(v):\n    return np.sign(v)",
    "non-taught edu helper": "from edu.prune import prunable_layers\nprunable_layers",
    "a magic line": "%matplotlib inline\nimport numpy as np",
    "syntax error": "def f(:\n    pass",
}


@pytest.mark.parametrize("source", FLAGGED.values(), ids=FLAGGED.keys())
def test_is_handing_work_to_edu_flagged(source):
    """Is each way of using or loading the reference flagged, with a line number?"""
    findings = scan_cell(source)
    assert findings
    assert all(f.line >= 1 and f.message for f in findings)


@pytest.mark.parametrize("source", CLEAN.values(), ids=CLEAN.keys())
def test_is_ordinary_code_not_flagged(source):
    """Is code that does its own work (or does not parse) left alone?"""
    assert scan_cell(source) == []


def test_are_the_reference_solutions_clean(repo):
    """Do the instructor's own solution cells pass the static check?"""
    flagged = {}
    for path in sorted(Path(repo, "solutions", "homework").glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("solution") and cell.cell_type == "code":
                findings = scan_cell(cell.source)
                if findings:
                    flagged[meta["grade_id"]] = findings
    assert flagged == {}


def test_is_a_cell_too_deep_to_parse_flagged_not_a_crash():
    """Is a 20,000-term expression, on which ast.parse raises RecursionError, flagged as a
    finding instead of crashing the scan (or passing unread)?"""
    source = "def gradient(v):\n    return " + "+".join(["v"] * 20_000)
    findings = scan_cell(source)
    assert [finding.message for finding in findings] == [
        "is nested too deeply to be checked: write it plainly"
    ]

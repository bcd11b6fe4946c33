"""Code similarity across a class, on the course's own reference solutions and stubs."""

import re

import pytest

from edu.grading._similarity import (
    COMMON,
    MIN_SHINGLES,
    SIMILARITY_PAGE,
    THRESHOLD,
    class_similarity_html,
    fingerprint,
    normalized_tokens,
    similar_pairs,
    similarity_html,
    starter_code,
)
from edu.grading._taught import TAUGHT


def _solution_cells(notebooks) -> dict[str, str]:
    """The instructor's solution cell of every taught function, by grade id."""
    return {
        cell.metadata["nbgrader"]["grade_id"]: cell.source
        for notebook in notebooks.values()
        for cell in notebook.cells
        if cell.metadata.get("nbgrader", {}).get("grade_id") in TAUGHT
    }


def _without_markers(source: str) -> str:
    return "\n".join(line for line in source.splitlines() if "### " not in line)


@pytest.fixture(scope="module")
def cells(solution_notebooks, repo):
    """``{grade_id: (reference solution, starter code)}`` of every taught function (the
    homework's and the bonus Lab 4's)."""
    import nbformat

    lab4 = {
        p.stem: nbformat.read(p, as_version=4)
        for p in (repo / "solutions" / "lab4").glob("*.ipynb")
    }
    return {
        grade_id: (_without_markers(source), starter_code(source))
        for grade_id, source in _solution_cells({**solution_notebooks, **lab4}).items()
    }


def _disguised(source: str) -> str:
    """A copy with every local name renamed, comments added and the layout changed."""
    renames = {
        "v": "vector",
        "keep": "kept_idx",
        "projected": "out",
        "threshold": "t",
        "weight": "W",
        "layers": "all_layers",
        "magnitudes": "mags",
        "layer": "lyr",
        "mask": "m",
        "nonzero": "nz",
        "quantized": "wq",
        "steps": "levels",
        "scale": "s",
        "free": "untouched",
        "shrunk": "result",
    }
    for old, new in renames.items():
        source = re.sub(rf"(?<![.\w]){old}\b", new, source)  # not attributes
    lines = []
    for line in source.splitlines():
        indent = line[: len(line) - len(line.lstrip())]
        if line.strip().startswith(("return", "with", "for", "if")):
            lines.append(f"{indent}# my own step, carefully thought through")
        lines.append(line.replace(", ", " ,  ").replace(" = ", "=") + "  # done")
    return "\n".join(lines) + "\n\n\n"


ALTERNATIVES = {
    "soft_threshold": """def soft_threshold(v, threshold):
    out = np.array(v, dtype=float)
    small = np.abs(out) <= threshold
    out[out > threshold] -= threshold
    out[out < -threshold] += threshold
    out[small] = 0.0
    return out
""",
    "hard_threshold": """def hard_threshold(v, k):
    result = np.zeros(len(v))
    if k == 0:
        return result
    order = np.argsort(np.abs(v))[::-1]
    for i in order[:k]:
        result[i] = v[i]
    return result
""",
    "trimmed_soft_threshold": """def trimmed_soft_threshold(v, threshold, num_free):
    v = np.array(v, dtype=float)
    idx = np.argsort(np.abs(v))
    out = v.copy()
    for i in idx[: len(v) - num_free]:
        out[i] = np.sign(v[i]) * max(abs(v[i]) - threshold, 0)
    return out
""",
    "prune_by_percentage": """def prune_by_percentage(layer, q):
    w = layer.weight.data
    t = torch.quantile(w.abs().flatten(), q / 100.0)
    mask = w.abs() >= t
    w.mul_(mask)
    return mask
""",
    "global_prune_by_percentage": """def global_prune_by_percentage(net, q):
    all_w = []
    for name, m in prunable_layers(net):
        all_w.append(m.weight.data.abs().view(-1))
    t = np.percentile(torch.cat(all_w).numpy(), q)
    for name, m in prunable_layers(net):
        m.weight.data[m.weight.data.abs() < t] = 0
    return float(t)
""",
}
"""Correct solutions written another way, as an honest student might."""


def _similarity(a: str, b: str, starter: str) -> float:
    fa, fb = fingerprint(a, starter), fingerprint(b, starter)
    return len(fa & fb) / len(fa | fb)


@pytest.mark.parametrize("function", list(TAUGHT))
def test_disguised_copy_is_identical(cells, function):
    """Does renaming, commenting and reformatting a solution leave its fingerprint as it is?"""
    reference, starter = cells[function]
    copy = _disguised(reference)
    assert copy != reference
    assert fingerprint(copy, starter) == fingerprint(reference, starter)


@pytest.mark.parametrize("function", list(ALTERNATIVES))
def test_independent_solutions_are_far_apart(cells, function):
    """Is the reference against a differently written correct solution far below the threshold?"""
    reference, starter = cells[function]
    assert _similarity(reference, ALTERNATIVES[function], starter) < THRESHOLD / 2


def test_starter_code_counts_for_nothing(cells):
    """Is the untouched stub left with no code of its own, so never compared?"""
    for function, (_, starter) in cells.items():
        assert fingerprint(starter, starter) == frozenset(), function


def test_class_pairs_are_flagged_and_ranked(cells):
    """Are the copies paired, ranked by similarity, and the honest and stub pairs left out?"""
    starters = {function: starter for function, (_, starter) in cells.items()}
    reference = {function: source for function, (source, _) in cells.items()}
    edited = dict(reference)
    edited["STE"] = reference["STE"].replace("return torch.zeros_like(w)", "return 0 * w", 1)
    solutions = {
        "alice": reference,
        "bob": {function: _disguised(source) for function, source in reference.items()},
        "carol": {**starters, **ALTERNATIVES},
        "dave": edited,
        "erin": dict(starters),
        "frank": dict(starters),
    }
    pairs = similar_pairs(solutions, starters)
    found = {(p.function, p.students) for p in pairs}
    for function in ALTERNATIVES:
        assert (function, ("alice", "bob")) in found
        assert not any(function == f and "carol" in s for f, s in found)
    assert not any("erin" in s or "frank" in s for _, s in found)
    ste = [p for p in pairs if p.function == "STE"]
    assert [p.students for p in ste[:3]] == [("alice", "bob"), ("alice", "dave"), ("bob", "dave")]
    assert ste[0].similarity == 1.0 > ste[1].similarity >= THRESHOLD
    short = [
        f
        for f, (source, starter) in cells.items()
        if len(fingerprint(source, starter)) < MIN_SHINGLES
    ]
    assert {"gradient", "l1_subgradient"} <= set(short)
    assert not any(p.function in short for p in pairs)
    page = similarity_html(pairs, "homework", len(solutions))
    assert "<h2><code>STE</code></h2>" in page and "alice" in page
    assert f"at least {THRESHOLD:g}" in page


def test_page_of_a_class_from_its_folders(
    tmp_path, solution_notebooks, layout, fast_limits, write_submission, replace_cell, repo
):
    """Does the page read each submission folder, pair the copy and leave the stubs alone?"""
    import nbformat

    release = repo / "assignments" / "homework"
    stub = {path.stem: nbformat.read(path, as_version=4) for path in release.glob("*.ipynb")}
    lab1 = stub["lab1_sparse_regression"]
    reference = _solution_cells(solution_notebooks)["trimmed_soft_threshold"]
    honest = replace_cell(lab1, "trimmed_soft_threshold", _without_markers(reference))
    copied = replace_cell(lab1, "trimmed_soft_threshold", _disguised(_without_markers(reference)))
    folders = {
        "honest": write_submission(tmp_path / "honest", {**stub, "lab1_sparse_regression": honest}),
        "copier": write_submission(tmp_path / "copier", {**stub, "lab1_sparse_regression": copied}),
        "stub_a": write_submission(tmp_path / "stub_a", stub),
        "stub_b": write_submission(tmp_path / "stub_b", stub),
    }
    page = class_similarity_html(folders, layout, fast_limits)
    assert SIMILARITY_PAGE == "similarity.html"
    assert "<code>trimmed_soft_threshold</code>" in page
    assert "<td>copier</td><td>honest</td>" in page
    assert "stub_a" not in page and "stub_b" not in page
    assert page.count("<h2>") == 1


def test_what_most_of_a_large_class_writes_is_common_ground(cells):
    """Is a formula more than COMMON students write alike left out, and a copy still found?"""
    starters = {function: starter for function, (_, starter) in cells.items()}
    reference = {function: source for function, (source, _) in cells.items()}
    crowd = {
        f"s{i:02d}": {"soft_threshold": reference["soft_threshold"]} for i in range(COMMON + 1)
    }
    crowd["s00"]["hard_threshold"] = reference["hard_threshold"]
    crowd["s01"]["hard_threshold"] = _disguised(reference["hard_threshold"])
    pairs = similar_pairs(crowd, starters)
    assert [(p.function, p.students) for p in pairs] == [("hard_threshold", ("s00", "s01"))]
    few = {student: cells for student, cells in list(crowd.items())[:COMMON]}
    assert any(p.function == "soft_threshold" for p in similar_pairs(few, starters))


def test_a_cell_too_deep_to_parse_is_compared_with_nothing():
    """Does a 20,000-term expression (RecursionError in ast) give no tokens and an empty
    fingerprint, instead of ending the class's grading?"""
    source = "def gradient(v):\n    return " + "+".join(["v"] * 20_000)
    assert normalized_tokens(source) is None
    assert fingerprint(source) == frozenset()

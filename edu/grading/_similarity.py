"""Code similarity across a class: pairs of students whose taught functions are near-identical.

A signal for the instructor, never a grade: ``edu grade`` writes the class's pairs to
``similarity.html`` beside ``grades.csv`` and changes no score.

The measure compares what each student wrote, not how it looks:

1. **Normalized tokens.** A solution cell is parsed (``ast``); docstrings and other
   bare strings are dropped, comments and formatting vanish with the parse, and every
   identifier the code binds or uses (variables, parameters, functions, import
   aliases) is renamed ``v0, v1, ...`` in order of first appearance, so a consistent
   renaming changes nothing. Attribute names (``np.sign``, ``.abs()``), keyword
   names, operators and constants stay: they are what the code does. The tree is
   written back (``ast.unparse``) and cut into Python tokens.
2. **Starter code excluded.** The cell's fingerprint is its set of token
   :data:`SHINGLE`-grams, minus every :data:`SHINGLE`-gram of the released stub
   (signature, docstring, ``raise NotImplementedError()``), normalized the same way:
   what every student was given does not count as agreement.
3. **Jaccard similarity** of two students' fingerprints, ``|A & B| / |A | B|``, for each
   taught function (:data:`edu.grading._taught.TAUGHT`). Grams that more than
   :data:`COMMON` students share are dropped first, as common ground. A pair is
   reported when it is at least :data:`THRESHOLD` and both wrote at least
   :data:`MIN_SHINGLES` grams of their own (an untouched stub has none: it is never
   paired). Pairs are ranked by similarity, then by the size of the code they share.

A copy with renamed variables, new comments and another layout scores 1.0; two
correct solutions written independently share the library calls of the formula but
not the order and shape of the statements around them, and score well below.
"""

from __future__ import annotations

import ast
import html
import io
import itertools
import re
import tokenize
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from edu.grading._assignment import AssignmentLayout
from edu.grading._copies import comparison_groups
from edu.grading._limits import Limits
from edu.grading._output_similarity import (
    OutputMove,
    checkpoint_pairs_html,
    similar_checkpoints,
)
from edu.grading._submission import read_submission
from edu.grading._taught import TAUGHT
from edu.grading._visible import without_magics

__all__ = [
    "COMMON",
    "MIN_SHINGLES",
    "SHINGLE",
    "SIMILARITY_PAGE",
    "THRESHOLD",
    "SimilarPair",
    "class_similarity_html",
    "fingerprint",
    "normalized_tokens",
    "similar_pairs",
    "similarity_html",
    "starter_code",
]

SHINGLE = 5
"""Tokens per gram of a fingerprint."""

THRESHOLD = 0.7
"""Jaccard similarity from which a pair is reported."""

MIN_SHINGLES = 20
"""Fewest grams of a student's own code for the function to be compared: a one-line
formula (``gradient``, ``l1_subgradient``) cannot be told from its copy."""

COMMON = 10
"""Grams found in more students' code than this are common ground, like the starter
code (MOSS's default): a formula most of a large class writes the same way."""

SIMILARITY_PAGE = "similarity.html"
"""The page's file name, in the course folder beside ``grades.csv``."""

_SOLUTION = re.compile(
    r"^([ \t]*)### BEGIN SOLUTION\n.*?^[ \t]*### END SOLUTION[ \t]*$", re.MULTILINE | re.DOTALL
)
_SKIPPED = {tokenize.ENCODING, tokenize.NL, tokenize.COMMENT, tokenize.ENDMARKER}


def starter_code(source: str) -> str:
    """The released stub of an instructor's solution cell (nbgrader's ``ClearSolutions``).

    A source without solution markers is returned as it is (already the release's).
    """
    return _SOLUTION.sub(r"\1# YOUR CODE HERE\n\1raise NotImplementedError()", source)


class _Canonical(ast.NodeTransformer):
    """Drops bare strings and renames identifiers in order of first appearance."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}

    def _rename(self, name: str) -> str:
        return self.names.setdefault(name, f"v{len(self.names)}")

    def generic_visit(self, node: ast.AST) -> ast.AST:
        body = getattr(node, "body", None)
        if isinstance(body, list):
            kept = [
                s
                for s in body
                if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
            ]
            node.body = kept or [ast.Pass()]
        return super().generic_visit(node)

    def visit_Name(self, node: ast.Name) -> ast.Name:
        node.id = self._rename(node.id)
        return node

    def visit_arg(self, node: ast.arg) -> ast.arg:
        node.arg = self._rename(node.arg)
        node.annotation = None
        return node

    def visit_alias(self, node: ast.alias) -> ast.alias:
        node.asname = self._rename(node.asname or node.name.partition(".")[0])
        return node

    def _visit_definition(self, node):
        node.name = self._rename(node.name)
        if hasattr(node, "returns"):
            node.returns = None
        return self.generic_visit(node)

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _visit_definition


def normalized_tokens(source: str) -> list[str] | None:
    """The cell's tokens after normalization (module docstring); None if it does not parse."""
    try:
        tree = _Canonical().visit(ast.parse(without_magics(source)))
        text = ast.unparse(tree)
    except (SyntaxError, RecursionError, MemoryError, ValueError):
        return None  # what does not parse (or nests too deep to) is compared with nothing
    return [
        tok.string or tokenize.tok_name[tok.type]
        for tok in tokenize.generate_tokens(io.StringIO(text).readline)
        if tok.type not in _SKIPPED
    ]


def _grams(tokens: Sequence[str]) -> set[tuple[str, ...]]:
    return {tuple(tokens[i : i + SHINGLE]) for i in range(len(tokens) - SHINGLE + 1)}


def fingerprint(source: str, starter: str = "") -> frozenset[tuple[str, ...]]:
    """The :data:`SHINGLE`-grams of the cell's normalized tokens that the starter lacks."""
    tokens = normalized_tokens(source)
    if tokens is None:
        return frozenset()
    given = _grams(normalized_tokens(starter) or []) if starter else set()
    return frozenset(_grams(tokens) - given)


@dataclass(frozen=True)
class SimilarPair:
    """Two students whose code for one taught function is near-identical.

    Attributes
    ----------
    function : str
        The taught function (its solution cell's grade id).
    students : tuple of str
        The two students, in name order.
    similarity : float
        The Jaccard similarity of their fingerprints, in [0, 1].
    shared : int
        How many grams of their own code they share.
    """

    function: str
    students: tuple[str, str]
    similarity: float
    shared: int


def similar_pairs(
    solutions: Mapping[str, Mapping[str, str]],
    starters: Mapping[str, str],
    threshold: float = THRESHOLD,
) -> list[SimilarPair]:
    """Every pair of students at or above ``threshold`` on some taught function, ranked.

    Parameters
    ----------
    solutions : mapping
        ``{student: {grade_id: source}}``: each student's solution cells.
    starters : mapping
        ``{grade_id: source}``: the released stub of each cell.
    threshold : float, default THRESHOLD

    Returns
    -------
    list of SimilarPair
        By function in :data:`TAUGHT` order, then by similarity and shared size,
        highest first.
    """
    pairs = []
    for function in TAUGHT:
        prints = {
            student: fingerprint(cells[function], starters.get(function, ""))
            for student, cells in sorted(solutions.items())
            if function in cells
        }
        counts = Counter(gram for p in prints.values() for gram in p)
        common = {gram for gram, count in counts.items() if count > COMMON}
        prints = {s: p - common for s, p in prints.items() if len(p - common) >= MIN_SHINGLES}
        found = []
        for (a, pa), (b, pb) in itertools.combinations(prints.items(), 2):
            shared = len(pa & pb)
            similarity = shared / len(pa | pb)
            if similarity >= threshold:
                found.append(SimilarPair(function, (a, b), similarity, shared))
        pairs += sorted(found, key=lambda p: (-p.similarity, -p.shared, p.students))
    return pairs


_STYLE = """
body { font-family: sans-serif; line-height: 1.4; max-width: 46em; margin: 0 auto;
       padding: 0.8em; }
h1 { font-size: 1.4em; } h2 { font-size: 1.2em; margin-top: 1.6em; }
table { border-collapse: collapse; } td, th { padding: 0.2em 0.6em; text-align: left; }
tr + tr td { border-top: 1px solid #ddd; } td.num { text-align: right; }
"""


def similarity_html(
    pairs: Sequence[SimilarPair], assignment: str, students: int, checkpoints: str = ""
) -> str:
    """The instructor's page of similar pairs, one table per taught function.

    ``checkpoints`` is the section on near-identical checkpoints
    (:func:`edu.grading._output_similarity.checkpoint_pairs_html`), placed last.
    """
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Similar solutions: {html.escape(assignment)}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>Similar solutions: {html.escape(assignment)}</h1>",
        f"<p>{students} submissions compared, function by function. A pair is listed when "
        f"the Jaccard similarity of their code is at least {THRESHOLD:g}: {SHINGLE}-grams "
        "of normalized tokens (identifiers renamed in order of appearance, comments, "
        "docstrings and layout ignored), the released starter code and what more than "
        f"{COMMON} students share left out. It is a "
        "reason to read the two solutions side by side, not a finding: no grade "
        "changes because of it.</p>",
    ]
    if not pairs:
        parts.append("<p>No pair reaches the threshold.</p>")
    for function, group in itertools.groupby(pairs, key=lambda p: p.function):
        rows = "".join(
            f"<tr><td>{html.escape(p.students[0])}</td><td>{html.escape(p.students[1])}</td>"
            f'<td class="num">{p.similarity:.2f}</td><td class="num">{p.shared}</td></tr>'
            for p in group
        )
        parts.append(
            f"<h2><code>{html.escape(function)}</code></h2><table><tr><th>student</th>"
            f"<th>student</th><th>similarity</th><th>shared grams</th></tr>{rows}</table>"
        )
    if checkpoints:
        parts.append(checkpoints)
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def class_similarity_html(
    submissions: Mapping[str, Path],
    layout: AssignmentLayout,
    limits: Limits,
    *,
    more: Sequence[tuple[Mapping[str, Path], AssignmentLayout]] = (),
    moves: Mapping[str, Mapping[str, OutputMove]] | None = None,
) -> str:
    """The page of similar pairs of a class: every submission read, compared, reported.

    Parameters
    ----------
    submissions : mapping of str to Path
        ``{student: submission folder}``.
    layout : AssignmentLayout
        The assignment; its solution cells give the starter code (nbgrader's gradebook
        keeps them as released, the source notebooks with solution markers).
    limits : Limits
        Size limits of the files read.
    more : sequence of (mapping, AssignmentLayout), optional
        The course's other assignments, each with its submissions: one page for the
        whole course, each assignment's functions compared within that assignment.
    moves : mapping of student to (mapping of checkpoint name to OutputMove), optional
        What grading measured of each student's checkpoints; with it, the page ends
        with the pairs of near-identical checkpoints.
    """
    pairs, count = [], 0
    classes = sorted([(submissions, layout), *more], key=lambda c: c[1].name)
    for folders, assignment in classes:
        starters = {
            cell.grade_id: starter_code(cell.source)
            for notebook in assignment.notebooks
            for cell in notebook.cells
            if cell.grade_id in TAUGHT and cell.solution
        }
        solutions = {}
        for student, folder in folders.items():
            submission = read_submission(Path(folder), student, assignment, limits)
            solutions[student] = {
                grade_id: source
                for notebook in submission.notebooks.values()
                for grade_id, source in notebook.solutions.items()
            }
        pairs += similar_pairs(solutions, starters)
        count += len(folders)
    names = ", ".join(assignment.name for _, assignment in classes)
    section = ""
    if moves is not None:
        section = checkpoint_pairs_html(similar_checkpoints(moves, comparison_groups()), len(moves))
    return similarity_html(pairs, names, count, section)

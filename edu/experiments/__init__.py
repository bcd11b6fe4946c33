"""Reproduction of the spec's Lab 2 and Lab 3 tables, and of Lab 4's, row by row.

This layer sits on top of :mod:`edu.data`, :mod:`edu.train`, :mod:`edu.prune` and
:mod:`edu.quant`; the command line (``edu reproduce``) sits on top of it.

- :data:`LAB2_ROWS`, :data:`LAB3_ROWS`, :data:`LAB4_ROWS` (in :data:`LABS`) declare each
  row: the spec's part and reference accuracy, and the function that makes this
  project's number;
- :class:`Experiment` carries what every row needs (float weights, data, device,
  :class:`Settings`), a row returns a :class:`RowResult`;
- :func:`finetune` is the one finetuning recipe of every training row;
- :func:`run_lab` runs the rows not yet done, writing ``<output>/<lab>/<row>/``
  (``row.json``, ``model.pt``, ``checkpoint.pt``);
- :func:`results_cells` and :func:`sparsity_cells` lay the records out as tables;
- :func:`seed_experiment` and :func:`add_seed_spread` run compared rows with extra
  seeds and report their spread (:data:`COMPARED_ROWS`);
- :func:`best_sparse_start` picks the 70 %-sparse model of Lab 2 that Lab 3 (d)
  starts from;
- :func:`reference_checkpoints` gives the reference checkpoints of the rows a homework
  submission holds (:data:`REFERENCE_ROWS`), kept with the hidden checks
  (:data:`REFERENCE_FOLDER`), not in the package, and those of an independent run
  that the demo's full solution submits (:data:`DEMO_FOLDER`).
"""

from edu.experiments._experiment import MODEL_FILE, ROW_FILE, Experiment, RowResult
from edu.experiments._finetune import CHECKPOINT, finetune, make_optimizer
from edu.experiments._lab3 import SPARSE_CANDIDATES, best_sparse_start
from edu.experiments._lab4 import SCAN_FILE, SCAN_SPARSITIES
from edu.experiments._reference import (
    DEMO_FOLDER,
    REFERENCE_FOLDER,
    REFERENCE_ROWS,
    reference_checkpoints,
    reference_manifest,
)
from edu.experiments._results import RESULTS_HEADER, results_cells, seed_spread, sparsity_cells
from edu.experiments._runner import MissingPrerequisiteError, finished_record, run_lab
from edu.experiments._seeds import (
    COMPARED_ROWS,
    HOMEWORK_SEEDED,
    PRUNING_COMPARISON,
    add_seed_spread,
    seed_dir,
    seed_experiment,
)
from edu.experiments._settings import Settings, file_sha256
from edu.experiments._summary import check_saved_model, level_budget, summarize
from edu.experiments._tables import (
    DISTILLED_WIDTHS,
    GROUP_LASSO_STRENGTH,
    LAB2_ROWS,
    LAB3_ROWS,
    LAB4_ROWS,
    LABS,
    STRONG_GROUP_LASSO_STRENGTH,
    Row,
    select_rows,
)

__all__ = [
    "CHECKPOINT",
    "COMPARED_ROWS",
    "DEMO_FOLDER",
    "DISTILLED_WIDTHS",
    "GROUP_LASSO_STRENGTH",
    "HOMEWORK_SEEDED",
    "LAB2_ROWS",
    "LAB3_ROWS",
    "LAB4_ROWS",
    "LABS",
    "MODEL_FILE",
    "PRUNING_COMPARISON",
    "REFERENCE_FOLDER",
    "REFERENCE_ROWS",
    "RESULTS_HEADER",
    "ROW_FILE",
    "SCAN_FILE",
    "SCAN_SPARSITIES",
    "SPARSE_CANDIDATES",
    "STRONG_GROUP_LASSO_STRENGTH",
    "Experiment",
    "MissingPrerequisiteError",
    "Row",
    "RowResult",
    "Settings",
    "add_seed_spread",
    "best_sparse_start",
    "check_saved_model",
    "file_sha256",
    "finetune",
    "finished_record",
    "level_budget",
    "make_optimizer",
    "reference_checkpoints",
    "reference_manifest",
    "results_cells",
    "run_lab",
    "seed_dir",
    "seed_experiment",
    "seed_spread",
    "select_rows",
    "sparsity_cells",
    "summarize",
]

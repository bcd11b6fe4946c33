"""Reproduction of the spec's Lab 2 and Lab 3 tables, row by row.

This layer sits on top of :mod:`edu.data`, :mod:`edu.train`, :mod:`edu.prune` and
:mod:`edu.quant`; the command line (``edu reproduce``) sits on top of it.

- :data:`LAB2_ROWS`, :data:`LAB3_ROWS` (in :data:`LABS`) declare each row: the spec's
  part and reference accuracy, and the function that makes this project's number;
- :class:`Experiment` carries what every row needs (float weights, data, device,
  :class:`Settings`), a row returns a :class:`RowResult`;
- :func:`finetune` is the one finetuning recipe of every training row;
- :func:`run_lab` runs the rows not yet done, writing ``<output>/<lab>/<row>/``
  (``row.json``, ``model.pt``, ``checkpoint.pt``);
- :func:`results_cells` and :func:`sparsity_cells` lay the records out as tables;
- :func:`reference_checkpoints` gives the shipped checkpoints of the rows a homework
  submission holds (:data:`REFERENCE_ROWS`).
"""

from edu.experiments._experiment import MODEL_FILE, Experiment, RowResult
from edu.experiments._finetune import CHECKPOINT, finetune, make_optimizer
from edu.experiments._reference import (
    REFERENCE_ROWS,
    reference_checkpoints,
    reference_manifest,
)
from edu.experiments._results import RESULTS_HEADER, results_cells, sparsity_cells
from edu.experiments._runner import ROW_FILE, MissingPrerequisiteError, finished_record, run_lab
from edu.experiments._settings import Settings, file_sha256
from edu.experiments._summary import check_saved_model, level_budget, summarize
from edu.experiments._tables import LAB2_ROWS, LAB3_ROWS, LABS, Row, select_rows

__all__ = [
    "CHECKPOINT",
    "LAB2_ROWS",
    "LAB3_ROWS",
    "LABS",
    "MODEL_FILE",
    "REFERENCE_ROWS",
    "RESULTS_HEADER",
    "ROW_FILE",
    "Experiment",
    "MissingPrerequisiteError",
    "Row",
    "RowResult",
    "Settings",
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
    "select_rows",
    "sparsity_cells",
    "summarize",
]

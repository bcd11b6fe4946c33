"""What the homework notebooks import besides the scaffolding of the other packages.

The notebooks in ``solutions/`` (and their student release in ``assignments/``) have
their students write the taught functions; everything else comes from :mod:`edu`.
This package holds the few pieces that exist only for the notebooks:

- :func:`training_enabled`: whether the cells that load CIFAR-10 and train should run
  (not while nbgrader autogrades or validates);
- :func:`save_submission`, :func:`load_submission` and :data:`SUBMISSION_CHECKPOINTS`:
  the checkpoints of Labs 2 and 3 that a student submits, saved as plain tensors;
- :func:`run_lab1_part`: a part of Lab 1 run with the student's functions;
- :func:`personal_seed`: the seed of the training data's order, drawn once per
  notebook folder, so that classmates' honest runs differ;
- :func:`finetune`: the finetuning recipe of ``edu reproduce`` with the student's
  epoch (and, through :class:`edu.prune.IterativePruning`, pruning functions);
- :mod:`edu.notebook.release`: ``python -m edu.notebook.release`` regenerates the
  student release with nbgrader.

It sits on top of :mod:`edu.experiments`, :mod:`edu.train` and the numerical core;
nothing else in :mod:`edu` imports it.
"""

from edu.notebook._environment import SKIP_TRAINING_ENV, training_enabled
from edu.notebook._finetune import finetune
from edu.notebook._lab1 import LAB1_HOMEWORK_PARTS, run_lab1_part
from edu.notebook._seed import SEED_FILE, personal_seed
from edu.notebook._submission import (
    SUBMISSION_CHECKPOINTS,
    SubmissionCheckpoint,
    load_submission,
    save_submission,
)

__all__ = [
    "LAB1_HOMEWORK_PARTS",
    "SEED_FILE",
    "SKIP_TRAINING_ENV",
    "SUBMISSION_CHECKPOINTS",
    "SubmissionCheckpoint",
    "finetune",
    "load_submission",
    "personal_seed",
    "run_lab1_part",
    "save_submission",
    "training_enabled",
]

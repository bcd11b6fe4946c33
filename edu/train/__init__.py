"""Training, evaluation and finetuning loops with resumable checkpoints."""

from edu.train._checkpoint import (
    CheckpointError,
    load_checkpoint,
    load_state_dict,
    save_atomically,
    save_checkpoint,
)
from edu.train._distill import Distillation, distillation_loss
from edu.train._finetune import finetune_after_prune
from edu.train._fit import AveragedWeights, FitResult, fit
from edu.train._loops import EpochResult, evaluate, train_one_epoch
from edu.train._optim import SCHEDULES, make_scheduler, make_sgd
from edu.train._runtime import resolve_device, seed_everything

__all__ = [
    "SCHEDULES",
    "AveragedWeights",
    "CheckpointError",
    "Distillation",
    "EpochResult",
    "FitResult",
    "distillation_loss",
    "evaluate",
    "finetune_after_prune",
    "fit",
    "load_checkpoint",
    "load_state_dict",
    "make_scheduler",
    "make_sgd",
    "resolve_device",
    "save_atomically",
    "save_checkpoint",
    "seed_everything",
    "train_one_epoch",
]

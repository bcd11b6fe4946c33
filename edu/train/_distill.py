"""Knowledge distillation: a compressed student learns the float teacher's soft outputs.

Course notes: :ref:`channel-pruning`.

A network with channels removed has lost some of what the float network knew. Training
it on the labels alone relearns that from one-hot targets; distillation (Hinton, Vinyals
and Dean, "Distilling the Knowledge in a Neural Network", 2015) also gives it the
teacher's whole output distribution, softened by a temperature :math:`T`, which says
which wrong classes are near misses:

.. math::

    \\mathcal{L} = (1 - \\alpha)\\, \\mathrm{CE}(s, y)
        + \\alpha\\, T^2\\, \\mathrm{KL}\\big(\\mathrm{softmax}(t / T) \\,\\|\\,
          \\mathrm{softmax}(s / T)\\big)

for student logits :math:`s` and teacher logits :math:`t`. For a large :math:`T` the
difference :math:`\\mathrm{softmax}(s/T) - \\mathrm{softmax}(t/T)` shrinks as
:math:`1/T`, and the KL term's gradient, that difference over :math:`T`, as
:math:`1/T^2`; the factor :math:`T^2` makes the soft gradient
:math:`\\alpha T (\\mathrm{softmax}(s/T) - \\mathrm{softmax}(t/T))` per image, whose
scale stays approximately unchanged as :math:`T` varies.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["Distillation", "distillation_loss"]


def distillation_loss(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    labels: torch.Tensor,
    *,
    temperature: float,
    weight: float,
) -> torch.Tensor:
    """Hinton et al.'s loss: ``(1 - weight) CE + weight T^2 KL(teacher || student)``.

    Both terms are means over the batch. ``weight`` is :math:`\\alpha` in the module
    docstring, ``temperature`` is :math:`T`.

    Examples
    --------
    >>> s = torch.tensor([[2.0, 0.0]]); y = torch.tensor([0])
    >>> bool(distillation_loss(s, s, y, temperature=4.0, weight=1.0) == 0)  # same outputs
    True
    """
    hard = F.cross_entropy(student_logits, labels)
    soft = F.kl_div(
        F.log_softmax(student_logits / temperature, dim=1),
        F.log_softmax(teacher_logits / temperature, dim=1),
        reduction="batchmean",
        log_target=True,
    )
    return (1.0 - weight) * hard + weight * temperature**2 * soft


@dataclass(frozen=True)
class Distillation:
    """A teacher and the weights of :func:`distillation_loss`, for a training epoch.

    Parameters
    ----------
    teacher : nn.Module
        Run in eval mode, in float32 and without gradient on every training batch; its
        weights are frozen (``requires_grad`` off) here.
    temperature : float, default 4.0
        :math:`T > 0`; 4 is the common choice for CIFAR-10.
    weight : float, default 0.9
        :math:`\\alpha \\in [0, 1]`, the share of the soft term.
    """

    teacher: nn.Module
    temperature: float = 4.0
    weight: float = 0.9

    def __post_init__(self) -> None:
        if not float(self.temperature) > 0.0:
            raise ValueError(f"temperature must be positive, got {self.temperature}")
        if not 0.0 <= float(self.weight) <= 1.0:
            raise ValueError(f"weight must lie in [0, 1], got {self.weight}")
        self.teacher.eval().requires_grad_(False)

    def loss(self, student_logits: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The loss of the student's ``student_logits`` on the batch ``(x, y)``.

        The teacher runs in eval mode (set again on every call, so that nothing can
        move its BatchNorm statistics) and in float32 even under autocast, so that the
        soft targets are not rounded to bfloat16; the loss is computed in float32.
        """
        self.teacher.eval()
        with torch.no_grad(), torch.autocast(x.device.type, enabled=False):
            teacher_logits = self.teacher(x.float())
        return distillation_loss(
            student_logits.float(),
            teacher_logits.float(),
            y,
            temperature=self.temperature,
            weight=self.weight,
        )

    def describe(self) -> dict[str, float]:
        """The plain settings, for a row's record."""
        return {"temperature": float(self.temperature), "weight": float(self.weight)}

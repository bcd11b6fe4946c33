"""Models of the course: the CIFAR ResNet, float or with quantized weights, and its cost."""

from edu.models._cost import ModelCost, model_cost
from edu.models._from_state_dict import (
    infer_inner_channels,
    infer_num_layers,
    resnet_from_state_dict,
)
from edu.models._pretrained import pretrained_metadata, pretrained_path, pretrained_resnet20
from edu.models._resnet import BasicBlock, ResNetCIFAR

__all__ = [
    "BasicBlock",
    "ModelCost",
    "ResNetCIFAR",
    "infer_inner_channels",
    "infer_num_layers",
    "model_cost",
    "pretrained_metadata",
    "pretrained_path",
    "pretrained_resnet20",
    "resnet_from_state_dict",
]

"""Models of the course: the CIFAR ResNet, float or with quantized weights."""

from edu.models._from_state_dict import infer_num_layers, resnet_from_state_dict
from edu.models._pretrained import pretrained_metadata, pretrained_path, pretrained_resnet20
from edu.models._resnet import BasicBlock, ResNetCIFAR

__all__ = [
    "BasicBlock",
    "ResNetCIFAR",
    "infer_num_layers",
    "pretrained_metadata",
    "pretrained_path",
    "pretrained_resnet20",
    "resnet_from_state_dict",
]

"""Models of the course: the CIFAR ResNet, float or with quantized weights."""

from edu.models._resnet import BasicBlock, ResNetCIFAR

__all__ = ["BasicBlock", "ResNetCIFAR"]

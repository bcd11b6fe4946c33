"""ResNet for CIFAR-10 (He et al., 2016, section 4.2), with optional quantized weights.

Three stages of basic blocks with 16, 32 and 64 channels; ``num_layers = 6n + 2``
(20, 32, 44, 56). A block's inner width (the output channels of its first convolution,
the input channels of its second) may be narrower than its stage: channel pruning
(:func:`edu.prune.remove_channels`) builds such a model, a smaller dense network.
Downsampling shortcuts are 1x1 convolutions followed by batch normalization
("option B"). Module names follow the course's checkpoints, so per-layer
tables read like the course's: ``head_conv.0.conv``, ``body_op.<k>.conv1.0.conv``,
``body_op.<k>.conv2.0.conv``, ``body_op.<k>.id_mapping.0.conv`` and
``final_fc.linear``.

With ``Nbits`` set, every convolution of the three stages (shortcuts included) uses
``Nbits``-bit weights through the quantizer; the first convolution and the final
linear layer stay floating point (COURSE-SPEC, Lab 3 (b)).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import torch
from torch import nn

from edu.quant import QuantConv2d

__all__ = ["BasicBlock", "ResNetCIFAR"]

_STAGE_CHANNELS = (16, 32, 64)


def _conv_bn(
    in_channels: int,
    out_channels: int,
    kernel_size: int,
    stride: int,
    *,
    relu: bool,
    nbits: int | None = None,
    symmetric: bool = False,
    quantizer: object | None = None,
    quantized: bool = False,
) -> nn.Sequential:
    """A ``conv -> bn [-> relu]`` unit wrapped so that its conv is named ``0.conv``."""
    conv_args = dict(stride=stride, padding=kernel_size // 2, bias=False)
    if quantized:
        conv = QuantConv2d(
            in_channels,
            out_channels,
            kernel_size,
            nbits=nbits,
            symmetric=symmetric,
            quantizer=quantizer,
            **conv_args,
        )
    else:
        conv = nn.Conv2d(in_channels, out_channels, kernel_size, **conv_args)
    unit = OrderedDict(conv=conv, bn=nn.BatchNorm2d(out_channels))
    if relu:
        unit["relu"] = nn.ReLU(inplace=True)
    return nn.Sequential(nn.Sequential(unit))


def _check_inner_channels(widths: Sequence[int] | None, blocks_per_stage: int) -> list[int] | None:
    """The blocks' inner widths as a list, once each is an integer from 1 to its stage's width.

    Pruning only narrows a block: a width above the stage's would be a wider network,
    never the result of removing channels.
    """
    if widths is None:
        return None
    widths = list(widths)
    limits = [width for width in _STAGE_CHANNELS for _ in range(blocks_per_stage)]
    if len(widths) != len(limits):
        raise ValueError(f"inner_channels needs one width per block ({len(limits)}), got {widths}")
    for width, limit in zip(widths, limits, strict=True):
        if isinstance(width, bool) or not isinstance(width, int) or not 1 <= width <= limit:
            raise ValueError(
                f"every inner width must be an integer from 1 to its stage's width {limits}, "
                f"got {widths}"
            )
    return widths


class BasicBlock(nn.Module):
    """Two 3x3 conv-bn units plus a shortcut (identity, or 1x1 conv-bn when reshaping).

    ``inner_channels`` (default ``out_channels``) is the width between the two units;
    only it can shrink without touching the residual path.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        stride: int,
        *,
        inner_channels: int | None = None,
        nbits: int | None = None,
        symmetric: bool = False,
        quantizer: object | None = None,
    ) -> None:
        super().__init__()
        inner = out_channels if inner_channels is None else inner_channels
        quant = dict(nbits=nbits, symmetric=symmetric, quantizer=quantizer, quantized=True)
        self.conv1 = _conv_bn(in_channels, inner, 3, stride, relu=True, **quant)
        self.conv2 = _conv_bn(inner, out_channels, 3, 1, relu=False, **quant)
        if stride != 1 or in_channels != out_channels:
            self.id_mapping = _conv_bn(in_channels, out_channels, 1, stride, relu=False, **quant)
        else:
            self.id_mapping = nn.Identity()
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.conv2(self.conv1(x)) + self.id_mapping(x))


class _Classifier(nn.Module):
    """Global average pooling and the final linear layer, named ``final_fc.linear``."""

    def __init__(self, in_features: int, num_classes: int) -> None:
        super().__init__()
        self.linear = nn.Linear(in_features, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


class ResNetCIFAR(nn.Module):
    """CIFAR ResNet-(6n+2) with optionally quantized stage convolutions.

    Parameters
    ----------
    num_layers : int, default 20
        Depth ``6n + 2``: 20, 32, 44, 56 (or any such value).
    Nbits : int or None, default None
        Bits of the weights of every stage convolution; ``None`` keeps them float.
        (Named as in the course's code.)
    symmetric : bool, default False
        Use the symmetric quantizer instead of the asymmetric one.
    quantizer : callable or autograd.Function subclass, optional
        The quantizer ``(w, bit, symmetric) -> w_q``; default the reference
        :class:`edu.quant.STE`. A notebook passes the student's ``STE``.
    num_classes : int, default 10
    inner_channels : sequence of int, optional
        The inner width of each block, in order (``3n`` values), each from 1 to the
        width of its stage (the default). A channel-pruned model has narrower blocks.

    Notes
    -----
    The state dict does not depend on ``Nbits``: a float checkpoint loads into a
    quantized model and vice versa. ResNet-20 has about 0.27 M parameters.

    Examples
    --------
    >>> net = ResNetCIFAR(num_layers=20, Nbits=4)
    >>> net(torch.zeros(2, 3, 32, 32)).shape
    torch.Size([2, 10])
    >>> round(sum(p.numel() for p in net.parameters()) / 1e6, 2)
    0.27
    """

    def __init__(
        self,
        num_layers: int = 20,
        Nbits: int | None = None,  # the course's name
        symmetric: bool = False,
        quantizer: object | None = None,
        num_classes: int = 10,
        inner_channels: Sequence[int] | None = None,
    ) -> None:
        super().__init__()
        if num_layers < 8 or (num_layers - 2) % 6:
            raise ValueError(
                f"num_layers must be 6n + 2 with n >= 1 (20, 32, ...), got {num_layers}"
            )
        blocks_per_stage = (num_layers - 2) // 6
        widths = _check_inner_channels(inner_channels, blocks_per_stage)
        self.num_layers = num_layers
        self.Nbits = Nbits
        self.symmetric = symmetric
        self.head_conv = _conv_bn(3, _STAGE_CHANNELS[0], 3, 1, relu=True)
        blocks = []
        in_channels = _STAGE_CHANNELS[0]
        for stage, out_channels in enumerate(_STAGE_CHANNELS):
            for index in range(blocks_per_stage):
                stride = 2 if stage > 0 and index == 0 else 1
                blocks.append(
                    BasicBlock(
                        in_channels,
                        out_channels,
                        stride,
                        inner_channels=widths[len(blocks)] if widths else None,
                        nbits=Nbits,
                        symmetric=symmetric,
                        quantizer=quantizer,
                    )
                )
                in_channels = out_channels
        self.body_op = nn.Sequential(*blocks)
        self.final_fc = _Classifier(in_channels, num_classes)
        self._init_weights()

    def _init_weights(self) -> None:
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)

    @property
    def inner_channels(self) -> list[int]:
        """The inner width of each block, in order: what a checkpoint's shapes record."""
        return [block.conv1[0].conv.out_channels for block in self.body_op]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.final_fc(self.body_op(self.head_conv(x)))

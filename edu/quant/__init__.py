"""Fixed-point weight quantization: the STE quantizer and quantized layers (Lab 3)."""

from edu.quant._layers import QuantConv2d, QuantLinear, Quantizer, resolve_quantizer
from edu.quant._ste import STE, quantize_weights

__all__ = [
    "STE",
    "QuantConv2d",
    "QuantLinear",
    "Quantizer",
    "quantize_weights",
    "resolve_quantizer",
]

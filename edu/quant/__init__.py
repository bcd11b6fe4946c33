"""Fixed-point weight quantization: the STE quantizer and quantized layers (Lab 3)."""

from edu.quant._layers import QuantConv2d, Quantizer, QuantLinear, resolve_quantizer
from edu.quant._levels import count_levels, count_weight_levels, quantized_layers
from edu.quant._ste import STE, quantize_weights

__all__ = [
    "STE",
    "QuantConv2d",
    "QuantLinear",
    "Quantizer",
    "count_levels",
    "count_weight_levels",
    "quantize_weights",
    "quantized_layers",
    "resolve_quantizer",
]

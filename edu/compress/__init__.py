"""A compressed model file: pruned, quantized weights stored in few bytes, read back exactly.

:func:`save_compressed` writes a CIFAR ResNet as each quantized layer's grid, the
positions of its non-zero weights (a bitmask or relative indices, whichever is smaller)
and their ``N``-bit codes, packed or Huffman-coded (:func:`huffman_code_lengths`),
whichever is smaller, the float layers as float32 (sparse when that pays), under a
header with a format version and a checksum, entropy-coded with lzma when that makes
the file smaller. :func:`load_compressed` parses it without unpickling anything and
gives back a model whose forward pass is the saved one's, bit for bit. Storage
accounting in the course notes, :ref:`storage`; the positions and the Huffman codes
follow Han et al., 2016, "Deep Compression", as does :func:`kmeans_quantize`, its
weight sharing, and :func:`share_weights`, finetuning with shared weights.
"""

from edu.compress._file import (
    MAX_WEIGHTS,
    CompressionReport,
    is_compressed_file,
    load_compressed,
    model_from_bytes,
    save_compressed,
    stored_weights,
)
from edu.compress._huffman import code_lengths as huffman_code_lengths
from edu.compress._kmeans import kmeans_quantize, kmeans_quantizer
from edu.compress._records import LayerSize
from edu.compress._sharing import SharedWeights, cluster_labels, share_weights
from edu.compress._stream import CompressedFileError

__all__ = [
    "MAX_WEIGHTS",
    "CompressedFileError",
    "CompressionReport",
    "LayerSize",
    "SharedWeights",
    "cluster_labels",
    "huffman_code_lengths",
    "is_compressed_file",
    "kmeans_quantize",
    "kmeans_quantizer",
    "load_compressed",
    "model_from_bytes",
    "save_compressed",
    "share_weights",
    "stored_weights",
]

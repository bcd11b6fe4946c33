"""Course package on DNN compression: pruning and fixed-point quantization.

The numerical core (:mod:`edu.sparse`, :mod:`edu.prune`, :mod:`edu.quant`,
:mod:`edu.models`) knows nothing of data loading, training loops, plotting or the
command line; :mod:`edu.data`, :mod:`edu.train`, :mod:`edu.plots` and :mod:`edu.cli`
sit on top of it. Notebooks, the autograder and the course notes all use this package.
"""

__version__ = "0.1.0"

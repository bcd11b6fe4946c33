"""Measure what the Lab 3 checks' quantization gain tells apart: 4-bit minus float accuracy.

For each checkpoint, the accuracy of its weights with 4-bit quantized stage convolutions
and of the same weights in float, on the same test images, and their difference. The
reference Lab 3 checkpoints (trained through the quantizer) are compared with weights
trained in float: the pretrained model and the reference Lab 2 checkpoints. The
thresholds of ``grader/thresholds.toml`` (``[quantization] min_gain``) cite this output.

Run from the repository root, with CIFAR-10 where ``EDU_DATA_ROOT`` says::

    python scripts/quantization_gain.py --images 2000 10000
"""

from __future__ import annotations

import argparse

from edu.data import BatchLoader, load_cifar10
from edu.experiments import REFERENCE_FOLDER, reference_checkpoints
from edu.models import pretrained_path, resnet_from_state_dict
from edu.train import evaluate, load_state_dict


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, nargs="+", default=[2000, 10000])
    parser.add_argument("--nbits", type=int, default=4)
    args = parser.parse_args()
    models = {"pretrained (float-trained)": pretrained_path()}
    models |= {name: path for name, path in reference_checkpoints(REFERENCE_FOLDER).items()}
    test = load_cifar10("test")
    print("| checkpoint | images | float | quantized | gain |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for images in args.images:
        loader = BatchLoader(test.images[:images], test.labels[:images], 1000, train=False)
        for name, path in models.items():
            state = load_state_dict(path)
            unquantized = evaluate(resnet_from_state_dict(state), loader).accuracy
            quantized = evaluate(resnet_from_state_dict(state, Nbits=args.nbits), loader).accuracy
            print(
                f"| {name} | {images} | {unquantized:.4f} | {quantized:.4f} "
                f"| {quantized - unquantized:+.4f} |"
            )


if __name__ == "__main__":
    main()

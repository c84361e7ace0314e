"""The peer side of bench_vs_torchinfo.py: one whole process that builds a plain-torch
ResNet-50 (torchvision's definition) and prints torchinfo's summary at SIZE x SIZE."""

from __future__ import annotations

import sys

from common import ROOT  # noqa: F401  (puts tests/ on sys.path)


def main() -> None:
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 224
    import torch
    import torchinfo

    from reference_nets import resnet50

    torch.set_num_threads(int(sys.argv[2]) if len(sys.argv) > 2 else torch.get_num_threads())
    model = resnet50().eval()
    torchinfo.summary(model, input_size=(1, 3, size, size), verbose=1, depth=3)


if __name__ == "__main__":
    main()

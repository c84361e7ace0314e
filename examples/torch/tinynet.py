"""A small CIFAR-10 CNN written the way a PyTorch user writes one: the model file that
README's `cnncalc import` example reads (`cnncalc import examples/torch/tinynet.py:TinyNet
--input 3x32x32`)."""

from torch import nn


class Residual(nn.Module):
    """Two 3x3 convolutions with an identity shortcut."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(width, width, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + x)


class TinyNet(nn.Module):
    """Stem, two stages of residual blocks, global pooling, a linear classifier."""

    def __init__(self, width: int = 32, blocks: int = 2, classes: int = 10) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, width, 3, padding=1, bias=False),
                                  nn.BatchNorm2d(width), nn.ReLU(inplace=True))
        self.stage1 = nn.Sequential(*[Residual(width) for _ in range(blocks)])
        self.down = nn.Sequential(nn.Conv2d(width, 2 * width, 3, stride=2, padding=1,
                                            bias=False), nn.BatchNorm2d(2 * width),
                                  nn.ReLU(inplace=True))
        self.stage2 = nn.Sequential(*[Residual(2 * width) for _ in range(blocks)])
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                                  nn.Linear(2 * width, classes))

    def forward(self, x):
        return self.head(self.stage2(self.down(self.stage1(self.stem(x)))))

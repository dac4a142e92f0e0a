"""The embedding network: 128x64 RGB person crops -> L2-normalised embedding vectors.

In the spirit of Wojke & Bewley (2018, "Deep Cosine Metric Learning for Person
Re-identification"): a small residual network whose last layer gives a feature vector that is
normalised to unit length, so that the cosine distance ``1 - a.b`` compares appearances. This
network is much narrower and shallower than the paper's wide residual net (report its cost with
``count_macs``) and normalises its input itself, so that the model (and its ONNX export) takes
raw RGB values in [0, 255].
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .generalise import IBN, GeM, MixStyle

# Per-channel RGB mean and std of natural images in [0, 255] (the usual ImageNet statistics).
RGB_MEAN = (123.675, 116.28, 103.53)
RGB_STD = (58.395, 57.12, 57.375)
POOLS = ("flatten", "avg", "gem")
BLOCKS = ("residual", "omni")


@dataclass(frozen=True)
class NetConfig:
    """Shape of an ``EmbeddingNet``.

    input_hw: crop size (height, width) in pixels; both must be divisible by 16.
    widths: channels of the stem and the three residual stages (stem uses widths[0]).
    blocks: residual blocks per stage (the first block of stages 2 and 3 halves the resolution).
    block: "residual" (``ResidualBlock``: two 3x3 convolutions) or "omni" (``OmniScaleBlock``:
        OSNet's multi-scale bottleneck, four streams of 1-4 lightweight 3x3 convolutions fused by
        a shared channel gate; Zhou et al. 2019), the building block of OSNet-x0.25, this
        project's distillation teacher (stem, pooling and head stay this network's).
    dim: embedding length.
    pool: "flatten" keeps the spatial layout of the last feature map (as in the paper);
        "avg" averages it (fewer parameters); "gem" is generalised-mean pooling with a learned
        exponent (``generalise.GeM``).
    dropout: dropout before the embedding layer during training.
    ibn_stages: the first n residual stages (0-3) use instance-batch normalisation (half the
        channels instance-normalised) after the first convolution of each block (IBN-Net-a).
    mixstyle_p: probability per batch of MixStyle after each of the first ``mixstyle_stages``
        stages during training (0 = off; no effect at inference).
    mixstyle_alpha: Beta(alpha, alpha) parameter of MixStyle's mixing weights.
    mixstyle_stages: number of early stages (1-3) followed by MixStyle.
    """

    input_hw: tuple[int, int] = (128, 64)
    widths: tuple[int, int, int] = (32, 64, 128)
    blocks: tuple[int, int, int] = (1, 1, 1)
    block: str = "residual"
    dim: int = 128
    pool: str = "flatten"
    dropout: float = 0.2
    ibn_stages: int = 0
    mixstyle_p: float = 0.0
    mixstyle_alpha: float = 0.1
    mixstyle_stages: int = 2

    def __post_init__(self) -> None:
        h, w = self.input_hw
        if h <= 0 or w <= 0 or h % 16 or w % 16:
            raise ValueError(f"input_hw={self.input_hw}: both sides must be positive multiples "
                             f"of 16")
        if len(self.widths) != 3 or min(self.widths) < 1:
            raise ValueError(f"widths={self.widths}: expected three positive channel counts")
        if len(self.blocks) != 3 or min(self.blocks) < 1:
            raise ValueError(f"blocks={self.blocks}: expected three counts >= 1")
        if self.block not in BLOCKS:
            raise ValueError(f"block={self.block!r}: allowed {', '.join(BLOCKS)}")
        if self.block == "omni" and min(self.widths) < 8:
            raise ValueError(f"widths={self.widths}: the omni block needs widths >= 8")
        if self.block == "omni" and self.ibn_stages:
            raise ValueError("ibn_stages: only with block='residual'")
        if self.dim < 1:
            raise ValueError(f"dim={self.dim}: must be >= 1")
        if self.pool not in POOLS:
            raise ValueError(f"pool={self.pool!r}: allowed {', '.join(POOLS)}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout={self.dropout}: allowed range [0, 1)")
        if not 0 <= self.ibn_stages <= 3:
            raise ValueError(f"ibn_stages={self.ibn_stages}: allowed 0..3")
        if self.ibn_stages and min(self.widths[:self.ibn_stages]) < 2:
            raise ValueError(f"ibn_stages={self.ibn_stages}: IBN stages need widths >= 2")
        if not 0.0 <= self.mixstyle_p <= 1.0:
            raise ValueError(f"mixstyle_p={self.mixstyle_p}: allowed range [0, 1]")
        if self.mixstyle_alpha <= 0:
            raise ValueError(f"mixstyle_alpha={self.mixstyle_alpha}: must be > 0")
        if not 1 <= self.mixstyle_stages <= 3:
            raise ValueError(f"mixstyle_stages={self.mixstyle_stages}: allowed 1..3")

    def to_dict(self) -> dict:
        """Plain-data form (lists, ints, strings) that ``torch.load(weights_only=True)`` reads."""
        d = asdict(self)
        d["input_hw"] = list(self.input_hw)
        d["widths"] = list(self.widths)
        d["blocks"] = list(self.blocks)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "NetConfig":
        """Inverse of ``to_dict``; keys added after the first release take their defaults
        (checkpoints written before them rebuild the same network)."""
        base = cls()
        return cls(input_hw=tuple(d["input_hw"]), widths=tuple(d["widths"]),
                   blocks=tuple(d["blocks"]), block=str(d.get("block", base.block)),
                   dim=int(d["dim"]), pool=str(d["pool"]),
                   dropout=float(d["dropout"]),
                   ibn_stages=int(d.get("ibn_stages", base.ibn_stages)),
                   mixstyle_p=float(d.get("mixstyle_p", base.mixstyle_p)),
                   mixstyle_alpha=float(d.get("mixstyle_alpha", base.mixstyle_alpha)),
                   mixstyle_stages=int(d.get("mixstyle_stages", base.mixstyle_stages)))


def _conv_bn(c_in: int, c_out: int, stride: int = 1, kernel: int = 3) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=False),
        nn.BatchNorm2d(c_out))


class ResidualBlock(nn.Module):
    """Two 3x3 conv-BN layers with an identity (or 1x1 strided projection) shortcut; with
    ``ibn`` the first normalisation is ``IBN`` (half instance, half batch norm)."""

    def __init__(self, c_in: int, c_out: int, stride: int = 1, ibn: bool = False):
        super().__init__()
        self.conv1 = _conv_bn(c_in, c_out, stride)
        if ibn:
            self.conv1[1] = IBN(c_out)
        self.conv2 = _conv_bn(c_out, c_out)
        self.shortcut = (nn.Identity() if stride == 1 and c_in == c_out
                         else _conv_bn(c_in, c_out, stride, kernel=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv2(F.relu(self.conv1(x), inplace=True))
        return F.relu(y + self.shortcut(x), inplace=True)


class LiteConv(nn.Module):
    """OSNet's lightweight 3x3 convolution: 1x1 pointwise, 3x3 depthwise, BN, ReLU."""

    def __init__(self, channels: int):
        super().__init__()
        self.point = nn.Conv2d(channels, channels, 1, bias=False)
        self.depth = nn.Conv2d(channels, channels, 3, padding=1, groups=channels, bias=False)
        self.bn = nn.BatchNorm2d(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn(self.depth(self.point(x))), inplace=True)


class ChannelGate(nn.Module):
    """OSNet's unified aggregation gate: per-channel weights in (0, 1) from the global average,
    through a bottleneck of ``channels // reduction``; one gate shared by all streams."""

    def __init__(self, channels: int, reduction: int = 16):
        super().__init__()
        hidden = max(1, channels // reduction)
        self.fc1 = nn.Conv2d(channels, hidden, 1)
        self.fc2 = nn.Conv2d(hidden, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        g = torch.sigmoid(self.fc2(F.relu(self.fc1(x.mean(dim=(2, 3), keepdim=True)))))
        return x * g


class OmniScaleBlock(nn.Module):
    """OSNet's bottleneck (Zhou et al. 2019, "Omni-Scale Feature Learning for Person
    Re-Identification"): 1x1 reduction to ``c_out // 4``, four streams of 1, 2, 3 and 4
    ``LiteConv`` layers (receptive fields 3 to 9) each weighted by the shared ``ChannelGate``
    and summed, 1x1 expansion with BN, identity (or 1x1 projection) shortcut, ReLU. With
    ``stride`` 2 the input is first average-pooled (OSNet's transition layers pool too)."""

    def __init__(self, c_in: int, c_out: int, stride: int = 1, streams: int = 4):
        super().__init__()
        mid = max(1, c_out // 4)
        self.pool = nn.AvgPool2d(2) if stride == 2 else nn.Identity()
        self.reduce = nn.Sequential(_conv_bn(c_in, mid, kernel=1), nn.ReLU(inplace=True))
        self.streams = nn.ModuleList(
            nn.Sequential(*(LiteConv(mid) for _ in range(t))) for t in range(1, streams + 1))
        self.gate = ChannelGate(mid)
        self.expand = _conv_bn(mid, c_out, kernel=1)
        self.shortcut = (nn.Identity() if c_in == c_out else _conv_bn(c_in, c_out, kernel=1))
        self.fused: FusedOmniStreams | None = None  # set by ``fuse_omni`` for inference only

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(x)
        y = self.reduce(x)
        if self.fused is not None and not self.training:
            y = self.fused(y)
        else:
            y = sum(self.gate(stream(y)) for stream in self.streams)
        return F.relu(self.expand(y) + self.shortcut(x), inplace=True)


class FusedOmniStreams(nn.Module):
    """Inference form of an ``OmniScaleBlock``'s four streams and gate, the same function in
    fewer, wider operations (for export: ONNX Runtime pays per node, and the block's streams
    are many small ones). Depth level ``t`` runs the ``t``-th ``LiteConv`` of every stream that
    still has one as one grouped 1x1 convolution (groups = streams left; level 1's shares its
    input, so it is one plain convolution to ``streams x mid`` channels), one depthwise 3x3, one
    BN and one ReLU; the first ``mid`` channels of each level's output finish a stream. The
    shared gate runs on the four finished streams at once as two grouped 1x1 convolutions with
    its weights repeated, and the gated streams are summed. Exact up to float rounding (a test
    compares it with the block's own forward); eval mode only: BN uses its running
    statistics."""

    def __init__(self, block: "OmniScaleBlock"):
        super().__init__()
        streams = [list(s) for s in block.streams]
        n = len(streams)
        mid = streams[0][0].point.in_channels
        self.mid, self.n = mid, n
        self.levels = nn.ModuleList()
        for t in range(n):
            layers = [s[t] for s in streams[t:]]  # the t-th LiteConv of streams t+1..n
            k = len(layers)
            point = nn.Conv2d(mid if t == 0 else k * mid, k * mid, 1, bias=False,
                              groups=1 if t == 0 else k)
            depth = nn.Conv2d(k * mid, k * mid, 3, padding=1, groups=k * mid, bias=False)
            bn = nn.BatchNorm2d(k * mid, eps=layers[0].bn.eps)
            with torch.no_grad():
                point.weight.copy_(torch.cat([lc.point.weight for lc in layers]))
                depth.weight.copy_(torch.cat([lc.depth.weight for lc in layers]))
                for name in ("weight", "bias", "running_mean", "running_var"):
                    getattr(bn, name).copy_(torch.cat([getattr(lc.bn, name) for lc in layers]))
            self.levels.append(nn.Sequential(point, depth, bn, nn.ReLU(inplace=True)))
        gate = block.gate
        hidden = gate.fc1.out_channels
        self.fc1 = nn.Conv2d(n * mid, n * hidden, 1, groups=n)
        self.fc2 = nn.Conv2d(n * hidden, n * mid, 1, groups=n)
        with torch.no_grad():
            self.fc1.weight.copy_(gate.fc1.weight.repeat(n, 1, 1, 1))
            self.fc1.bias.copy_(gate.fc1.bias.repeat(n))
            self.fc2.weight.copy_(gate.fc2.weight.repeat(n, 1, 1, 1))
            self.fc2.bias.copy_(gate.fc2.bias.repeat(n))

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        # torch.split and a sum of chunks (not slicing and a view): one ONNX Split node each,
        # no shape arithmetic in the exported graph
        finished, z = [], y
        for t, level in enumerate(self.levels):
            z = level(z)
            left = self.n - t - 1  # streams still running after this level
            if left:
                done, z = torch.split(z, [self.mid, left * self.mid], dim=1)
                finished.append(done)
            else:
                finished.append(z)
        s = torch.cat(finished, dim=1)
        g = torch.sigmoid(self.fc2(F.relu(self.fc1(s.mean(dim=(2, 3), keepdim=True)))))
        gated = torch.split(s * g, [self.mid] * self.n, dim=1)
        out = gated[0]
        for part in gated[1:]:
            out = out + part
        return out


def fuse_omni(model: "EmbeddingNet") -> "EmbeddingNet":
    """A copy of ``model`` in eval mode whose omni-scale blocks run their streams as
    ``FusedOmniStreams`` (the same embeddings; for export and inference); a network of
    residual blocks comes back as an eval-mode copy unchanged."""
    import copy

    fused = copy.deepcopy(model).eval()
    for module in fused.modules():
        if isinstance(module, OmniScaleBlock) and module.fused is None:
            module.fused = FusedOmniStreams(module).eval()
    return fused


class EmbeddingNet(nn.Module):
    """``forward(x)``: x (B, 3, H, W) float RGB in [0, 255] -> (B, dim) unit-length embeddings.

    ``features(x)`` gives the same embeddings before normalisation (used by the plain softmax
    head and the center loss).
    """

    def __init__(self, config: NetConfig = NetConfig()):
        super().__init__()
        self.config = config
        w0, w1, w2 = config.widths
        self.register_buffer("mean", torch.tensor(RGB_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(RGB_STD).view(1, 3, 1, 1), persistent=False)
        # stem: stride 2 conv, then 3x3 max-pool stride 2 -> 1/4 resolution
        self.stem = nn.Sequential(_conv_bn(3, w0, stride=2), nn.ReLU(inplace=True),
                                  nn.MaxPool2d(3, stride=2, padding=1))
        stages = []
        c_in = w0
        for i, (width, n) in enumerate(zip(config.widths, config.blocks)):
            layers = []
            for j in range(n):
                stride = 2 if (i > 0 and j == 0) else 1
                layers.append(OmniScaleBlock(c_in, width, stride) if config.block == "omni"
                              else ResidualBlock(c_in, width, stride,
                                                 ibn=i < config.ibn_stages))
                c_in = width
            stages.append(nn.Sequential(*layers))
        self.stages = nn.Sequential(*stages)
        # parameter-free and the identity in eval mode: kept out of ``stages`` so that state
        # dicts keep their keys
        self.mixstyle = (MixStyle(config.mixstyle_p, config.mixstyle_alpha)
                         if config.mixstyle_p > 0 else None)
        self.gem = GeM() if config.pool == "gem" else None
        h, w = config.input_hw
        spatial = (h // 16) * (w // 16)
        flat = w2 * spatial if config.pool == "flatten" else w2
        self.dropout = nn.Dropout(config.dropout)
        self.fc = nn.Linear(flat, config.dim, bias=False)
        self.bn = nn.BatchNorm1d(config.dim)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        # zero-init the last BN of each residual branch: every block starts as identity
        for m in self.modules():
            if isinstance(m, ResidualBlock):
                nn.init.zeros_(m.conv2[1].weight)
            elif isinstance(m, OmniScaleBlock):
                nn.init.zeros_(m.expand[1].weight)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) float RGB in [0, 255] -> (B, dim) float features, not normalised."""
        x = (x - self.mean) / self.std
        x = self.stem(x)
        for i, stage in enumerate(self.stages):
            x = stage(x)
            if self.mixstyle is not None and i < self.config.mixstyle_stages:
                x = self.mixstyle(x)
        if self.config.pool == "flatten":
            x = torch.flatten(x, 1)
        elif self.gem is not None:
            x = self.gem(x)
        else:
            x = x.mean(dim=(2, 3))
        return self.bn(self.fc(self.dropout(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.features(x), dim=1)


def count_params(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def count_macs(model: nn.Module, input_hw: tuple[int, int]) -> int:
    """Multiply-accumulates of one forward pass on one (3, H, W) input (conv and linear layers;
    FLOPs are about twice this). Counted with forward hooks on a single zero input."""
    total = 0

    def conv_hook(m: nn.Conv2d, inp, out) -> None:
        nonlocal total
        k = m.kernel_size[0] * m.kernel_size[1] * (m.in_channels // m.groups)
        total += out.numel() * k

    def linear_hook(m: nn.Linear, inp, out) -> None:
        nonlocal total
        total += out.numel() * m.in_features

    hooks = []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            hooks.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            hooks.append(m.register_forward_hook(linear_hook))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(torch.zeros(1, 3, *input_hw))
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    return total


__all__ = ["NetConfig", "EmbeddingNet", "ResidualBlock", "OmniScaleBlock", "count_params",
           "count_macs", "RGB_MEAN", "RGB_STD"]

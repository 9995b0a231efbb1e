"""TinyViT, the image encoder of LiteMedSAM, written for samseg.

Four stages turn a (B, 3, S, S) image into a (B, 256, S/4, S/4) embedding:

- a stride-1 stem of two 1x1 convolutions (3 -> dim0 / 2 -> dim0);
- stage 0: inverted-residual convolution blocks (1x1 expand, 3x3 depthwise, 1x1 project) at
  full resolution S;
- stages 1-3: transformer blocks on a channels-last token grid, each: windowed self-attention
  with a learned bias per (|row offset|, |column offset|) pair inside the window, a 3x3
  depthwise convolution, and an MLP; grids that do not divide into windows are zero-padded
  bottom/right for the attention (the padded tokens take part as keys, as in the original);
- between stages a merge (1x1, 3x3 depthwise with stride 2 or 1, 1x1), so the stages run at
  S, S/2, S/4 and S/4 pixels for LiteMedSAM (no stride into the last stage);
- a neck: 1x1 convolution to 256 channels, LayerNorm2d, 3x3 convolution, LayerNorm2d.

Parameter names follow the LiteMedSAM checkpoint's ``image_encoder.*`` keys, so the official
``lite_medsam.pth`` loads strictly. The network has no position table, so any input side that is
a multiple of 4 works with the same weights.

**Batch-norm statistics are frozen.** Every convolution is followed by a BatchNorm whose
running statistics are folded into the convolution on the fly (one convolution per pair, also
a speed-up). In training the convolution and BatchNorm affine parameters learn, but the running
statistics never change: fine-tuning batches of a few slices give noisy statistics, and a
frozen encoder must give the same embeddings in train and eval mode.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from samseg.models.sam_import import import_segment_anything

_LayerNorm2d = import_segment_anything().modeling.common.LayerNorm2d


@dataclass(frozen=True, kw_only=True)
class TinyViTConfig:
    """Hyper-parameters of a TinyViT encoder.

    Attributes:
        embed_dims: channels of the four stages.
        depths: blocks per stage (stage 0: convolution blocks, others: transformer blocks).
        num_heads: attention heads of each stage (stage 0's entry is unused).
        window_sizes: attention window side, in tokens, of each stage (stage 0's unused).
        merge_strides: stride of the merge into stages 1, 2 and 3.
        mlp_ratio: MLP hidden width / stage width.
        conv_expand_ratio: hidden width / width of the stage-0 convolution blocks.
        out_chans: channels of the neck output (the image embedding).
    """

    embed_dims: tuple[int, int, int, int] = (64, 128, 160, 320)
    depths: tuple[int, int, int, int] = (2, 2, 6, 2)
    num_heads: tuple[int, int, int, int] = (2, 4, 5, 10)
    window_sizes: tuple[int, int, int, int] = (7, 7, 14, 7)
    merge_strides: tuple[int, int, int] = (2, 2, 1)
    mlp_ratio: float = 4.0
    conv_expand_ratio: float = 4.0
    out_chans: int = 256

    @property
    def downsampling(self) -> int:
        """Input pixels per embedding cell along a side (4 for LiteMedSAM)."""
        factor = 1
        for stride in self.merge_strides:
            factor *= stride
        return factor

    def stage_sides(self, input_size: int) -> tuple[int, int, int, int]:
        """Grid side of each stage for an ``input_size`` pixel input."""
        sides = [input_size]
        for stride in self.merge_strides:
            sides.append(-(-sides[-1] // stride))
        return tuple(sides)  # type: ignore[return-value]


class ConvNorm(nn.Module):
    """A bias-free convolution and a BatchNorm, computed as one folded convolution.

    Parameters ``c.weight`` and ``bn.*``; the BatchNorm's running statistics are frozen (see
    the module docstring), its affine weight and bias train.
    """

    def __init__(
        self, in_chans: int, out_chans: int, kernel: int = 1, stride: int = 1, groups: int = 1
    ) -> None:
        super().__init__()
        self.c = nn.Conv2d(
            in_chans, out_chans, kernel, stride, kernel // 2, groups=groups, bias=False
        )
        self.bn = nn.BatchNorm2d(out_chans)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, in, H, W) -> (B, out, H / stride, W / stride)."""
        scale = self.bn.weight * torch.rsqrt(self.bn.running_var + self.bn.eps)
        weight = self.c.weight * scale.view(-1, 1, 1, 1)
        bias = self.bn.bias - self.bn.running_mean * scale
        conv = self.c
        return F.conv2d(x, weight, bias, conv.stride, conv.padding, conv.dilation, conv.groups)


class Stem(nn.Module):
    """Two 1x1 ConvNorms with a GELU between: (B, 3, S, S) -> (B, dim, S, S)."""

    def __init__(self, in_chans: int, dim: int) -> None:
        super().__init__()
        self.seq = nn.Sequential(ConvNorm(in_chans, dim // 2), nn.GELU(), ConvNorm(dim // 2, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.seq(x)


class InvertedResidual(nn.Module):
    """Stage-0 block: expand (1x1), depthwise 3x3, project (1x1), residual, GELU; (B, C, H, W)."""

    def __init__(self, dim: int, expand_ratio: float) -> None:
        super().__init__()
        hidden = int(dim * expand_ratio)
        self.conv1 = ConvNorm(dim, hidden)
        self.conv2 = ConvNorm(hidden, hidden, kernel=3, groups=hidden)
        self.conv3 = ConvNorm(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        hidden = F.gelu(self.conv2(F.gelu(self.conv1(x))))
        return F.gelu(x + self.conv3(hidden))


class Merge(nn.Module):
    """Between stages: 1x1 to the new width, depthwise 3x3 with ``stride``, 1x1.

    Takes (B, C, H, W) channels-first and returns a channels-last (B, H', W', C') grid.
    """

    def __init__(self, dim: int, out_dim: int, stride: int) -> None:
        super().__init__()
        self.conv1 = ConvNorm(dim, out_dim)
        self.conv2 = ConvNorm(out_dim, out_dim, kernel=3, stride=stride, groups=out_dim)
        self.conv3 = ConvNorm(out_dim, out_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv3(F.gelu(self.conv2(F.gelu(self.conv1(x)))))
        return x.permute(0, 2, 3, 1)


def window_offset_index(window: int) -> torch.Tensor:
    """(N, N) index, N = window², of the bias entry for each (query, key) pair of a window.

    Tokens are numbered row by row; the pair's entry is |row offset| * window + |col offset|.
    """
    rows, cols = torch.meshgrid(torch.arange(window), torch.arange(window), indexing="ij")
    rows, cols = rows.flatten(), cols.flatten()
    d_row = (rows[:, None] - rows[None, :]).abs()
    d_col = (cols[:, None] - cols[None, :]).abs()
    return d_row * window + d_col


class WindowAttention(nn.Module):
    """Multi-head self-attention inside one window, with a learned offset bias per head.

    ``qkv`` rows are grouped by head: for head h, rows [3 h d, 3 h d + d) are its queries,
    the next d its keys and the next d its values (d = dim / heads). The attention is the
    explicit softmax(q k^T / sqrt(d) + bias) v by default; ``fast = True`` computes it with
    ``scaled_dot_product_attention`` instead (same result to ~1e-6, but slower on the CPU for
    these 49- and 196-token windows, in bf16 most of all: see documentation/models.md).
    """

    def __init__(self, dim: int, num_heads: int, window: int) -> None:
        super().__init__()
        if dim % num_heads:
            raise ValueError(f"TinyViT width {dim} is not divisible by {num_heads} heads.")
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.norm = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.attention_biases = nn.Parameter(torch.zeros(num_heads, window * window))
        self.register_buffer("bias_index", window_offset_index(window), persistent=False)
        self.fast = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(W, N, C) tokens of W windows -> (W, N, C)."""
        windows, tokens, _ = x.shape
        qkv = self.qkv(self.norm(x)).view(windows, tokens, self.num_heads, 3, self.head_dim)
        q, k, v = qkv.permute(3, 0, 2, 1, 4).unbind(0)
        bias = self.attention_biases[:, self.bias_index].to(q.dtype)
        if self.fast:
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
        else:
            weights = (q @ k.transpose(-2, -1)) * self.head_dim**-0.5 + bias
            out = weights.softmax(dim=-1) @ v
        return self.proj(out.transpose(1, 2).reshape(windows, tokens, -1))


class TransformerBlock(nn.Module):
    """Window attention, depthwise 3x3 convolution, MLP; on (B, H, W, C) grids."""

    def __init__(self, dim: int, num_heads: int, window: int, mlp_ratio: float) -> None:
        super().__init__()
        self.window = window
        self.attn = WindowAttention(dim, num_heads, window)
        self.local_conv = ConvNorm(dim, dim, kernel=3, groups=dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self._attend(x)
        x = self.local_conv(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)
        return x + self.mlp(x)

    def _attend(self, x: torch.Tensor) -> torch.Tensor:
        """Attention within windows of the zero-padded grid, cropped back: (B, H, W, C)."""
        batch, height, width, channels = x.shape
        w = self.window
        pad_h, pad_w = -height % w, -width % w
        if pad_h or pad_w:
            x = F.pad(x, (0, 0, 0, pad_w, 0, pad_h))
        rows, cols = (height + pad_h) // w, (width + pad_w) // w
        windows = x.reshape(batch, rows, w, cols, w, channels).transpose(2, 3)
        out = self.attn(windows.reshape(-1, w * w, channels))
        out = out.view(batch, rows, cols, w, w, channels).transpose(2, 3)
        out = out.reshape(batch, rows * w, cols * w, channels)
        return out[:, :height, :width] if pad_h or pad_w else out


class Mlp(nn.Module):
    """LayerNorm, Linear, GELU, Linear on the last dimension."""

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.gelu(self.fc1(self.norm(x))))


class Stage(nn.Module):
    """The blocks of one stage and the merge into the next (``downsample``, None if last)."""

    def __init__(self, blocks: list[nn.Module], downsample: Merge | None) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(blocks)
        self.downsample = downsample


class TinyViT(nn.Module):
    """TinyViT image encoder: (B, 3, S, S) normalised images -> (B, 256, S/4, S/4).

    Blocks are numbered across stages (0 .. sum(depths) - 1) for :meth:`encode`.
    """

    def __init__(self, config: TinyViTConfig, in_chans: int = 3) -> None:
        super().__init__()
        self.config = config
        dims = config.embed_dims
        self.patch_embed = Stem(in_chans, dims[0])
        self.layers = nn.ModuleList()
        for stage, (dim, depth) in enumerate(zip(dims, config.depths, strict=True)):
            if stage == 0:
                blocks = [InvertedResidual(dim, config.conv_expand_ratio) for _ in range(depth)]
            else:
                heads, window = config.num_heads[stage], config.window_sizes[stage]
                blocks = [
                    TransformerBlock(dim, heads, window, config.mlp_ratio) for _ in range(depth)
                ]
            last = stage == len(dims) - 1
            merge = None if last else Merge(dim, dims[stage + 1], config.merge_strides[stage])
            self.layers.append(Stage(blocks, merge))
        self.neck = nn.Sequential(
            nn.Conv2d(dims[-1], config.out_chans, kernel_size=1, bias=False),
            _LayerNorm2d(config.out_chans),
            nn.Conv2d(config.out_chans, config.out_chans, kernel_size=3, padding=1, bias=False),
            _LayerNorm2d(config.out_chans),
        )

    @property
    def depth(self) -> int:
        """Number of blocks over all stages."""
        return sum(self.config.depths)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """(B, 3, S, S) normalised images -> (B, 256, S/4, S/4) embedding.

        The convolutions run in channels-last memory layout (the transformer stages keep
        (B, H, W, C) grids anyway); the embedding is returned in that layout too.
        """
        return self.encode(images)[0]

    def encode(
        self, images: torch.Tensor, return_blocks: Sequence[int] = ()
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """The embedding and the outputs of the blocks in ``return_blocks``.

        Args:
            images: (B, 3, S, S) normalised images, S a multiple of 4.
            return_blocks: block indices in [0, depth), in the order wanted.

        Returns:
            ``(neck, blocks)``: (B, 256, S/4, S/4) and one channels-last (B, h, w, C) grid per
            requested block, h = w = the block's stage side and C its width (stage 0's
            outputs are permuted views of the channels-first maps).

        Raises:
            ValueError: a block index out of range.
        """
        invalid = [index for index in return_blocks if not 0 <= index < self.depth]
        if invalid:
            raise ValueError(
                f"return_blocks must be block indices in [0, {self.depth}) for this encoder, "
                f"found {invalid}."
            )
        wanted = set(return_blocks)
        kept: dict[int, torch.Tensor] = {}
        index = 0
        x = self.patch_embed(images.contiguous(memory_format=torch.channels_last))
        for stage, layer in enumerate(self.layers):
            for block in layer.blocks:
                x = block(x)
                if index in wanted:
                    kept[index] = x.permute(0, 2, 3, 1) if stage == 0 else x
                index += 1
            if layer.downsample is not None:
                x = x if stage == 0 else x.permute(0, 3, 1, 2)
                x = layer.downsample(x)
        neck = self.neck(x.permute(0, 3, 1, 2))
        return neck, [kept[i] for i in return_blocks]

"""SAM's image-encoder attention through ``scaled_dot_product_attention``.

The stock ``Attention.forward`` materialises the attention matrix, adds the decomposed
relative position terms to it and applies softmax: three (heads, N, N) tensors per image,
N = tokens per window or per image (4096 in a global block at 1024 input). The fast path
computes only the relative-position bias, rel_h[q, k_row] + rel_w[q, k_col], built from
segment_anything's own ``get_rel_pos`` tables, and hands it to
``torch.nn.functional.scaled_dot_product_attention`` as the additive attention mask, which
fuses scaling, softmax and the product with v. In fp32 it agrees with the stock block to
within rounding (max abs difference well below 1e-4).

segment_anything's ``add_decomposed_rel_pos`` is not called here because it needs the full
attention matrix to add the bias to, the very tensor the fast path never builds.

:class:`SdpaAttention` subclasses segment_anything's ``Attention`` and adds no parameters, so
an encoder switches paths by changing the class of its attention modules
(:func:`use_fast_attention`): parameter names, checkpoints, LoRA layers on ``qkv``/``proj``
and hooks are all unaffected, and the switch can be undone.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from samseg.models.sam_import import import_segment_anything

_image_encoder = import_segment_anything().modeling.image_encoder


def relative_position_bias(
    q: torch.Tensor, rel_pos_h: torch.Tensor, rel_pos_w: torch.Tensor, size: tuple[int, int]
) -> torch.Tensor:
    """Decomposed relative position bias of SAM's attention (MViTv2), as an additive mask.

    Args:
        q: unscaled queries, (B, heads, H*W, head_dim).
        rel_pos_h: relative position table along the rows, (L_h, head_dim).
        rel_pos_w: relative position table along the columns, (L_w, head_dim).
        size: the token grid (H, W); queries and keys share it.

    Returns:
        bias[b, n, (i, j), (k, l)] = q[b, n, (i, j)] . (R_h[i, k] + R_w[j, l]) as a
        (B, heads, H*W, H*W) tensor of q's dtype.
    """
    height, width = size
    table_h = _image_encoder.get_rel_pos(height, height, rel_pos_h).to(q.dtype)
    table_w = _image_encoder.get_rel_pos(width, width, rel_pos_w).to(q.dtype)
    grid_q = q.unflatten(2, (height, width))
    rel_h = torch.einsum("bnhwc,hkc->bnhwk", grid_q, table_h)
    rel_w = torch.einsum("bnhwc,wkc->bnhwk", grid_q, table_w)
    bias = rel_h.unsqueeze(-1) + rel_w.unsqueeze(-2)
    return bias.reshape(q.shape[0], q.shape[1], height * width, height * width)


class SdpaAttention(_image_encoder.Attention):
    """segment_anything's ``Attention`` computed by ``scaled_dot_product_attention``.

    Same constructor, parameters and state-dict names as the stock class; only ``forward``
    differs. Usually obtained by :func:`use_fast_attention` rather than constructed.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Attend within ``x``, (B, H, W, C) tokens -> (B, H, W, C)."""
        batch, height, width, _ = x.shape
        qkv = self.qkv(x).reshape(batch, height * width, 3, self.num_heads, -1)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
        bias = None
        if self.use_rel_pos:
            bias = relative_position_bias(q, self.rel_pos_h, self.rel_pos_w, (height, width))
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=bias, scale=self.scale)
        out = out.transpose(1, 2).reshape(batch, height, width, -1)
        return self.proj(out)


def use_fast_attention(image_encoder: nn.Module, enabled: bool = True) -> int:
    """Switch every attention module of ``image_encoder`` to the SDPA path or back to stock.

    The modules keep their parameters; only their class (hence ``forward``) changes.

    Returns:
        The number of attention modules switched.
    """
    target = SdpaAttention if enabled else _image_encoder.Attention
    count = 0
    for module in image_encoder.modules():
        if isinstance(module, _image_encoder.Attention):
            module.__class__ = target
            count += 1
    return count


def uses_fast_attention(image_encoder: nn.Module) -> bool:
    """Whether every attention module of ``image_encoder`` takes the SDPA path."""
    modules = [m for m in image_encoder.modules() if isinstance(m, _image_encoder.Attention)]
    return bool(modules) and all(isinstance(m, SdpaAttention) for m in modules)

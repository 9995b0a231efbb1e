"""The network frame of fixed-scale configurations: zoom, padding, windows, and the way back."""

from __future__ import annotations

import torch

from samseg.inference.tiling import PlaneTiling, ProbabilityAccumulator


def frame(shape, zoom: float, size: int = 64) -> PlaneTiling:
    return PlaneTiling.plan(
        shape, size, "sliding_window", 0.5, slice_scaling="fixed_scale", zoom=zoom
    )


def test_fixed_scale_zooms_pads_small_slices_and_windows_large_ones():
    small = frame((40, 60), 0.5)
    assert small.framed_shape == (20, 30) and small.windows == ((0, 0),)
    assert small.padding == ((22, 22), (17, 17)) and small.tiles_per_slice == 1
    large = frame((40, 60), 2.0)
    assert large.framed_shape == (80, 120) and large.padding == ((0, 0), (0, 0))
    assert large.windows == tuple((r, c) for r in (0, 16) for c in (0, 28, 56))
    # resize_to_fill resizes the same slice to fill the input instead.
    assert PlaneTiling.plan((40, 60), 64, "sliding_window", 0.5).resizes


def test_fixed_scale_cut_resamples_then_pads():
    tiling = frame((40, 60), 0.5)
    slices = torch.zeros(1, 1, 40, 60)
    slices[0, 0, 10:20, 20:40] = 1  # 10 x 20 pixels -> 5 x 10 in the frame
    (cut,) = tiling.cut(slices, tiling.windows)
    assert cut.shape == (1, 64, 64)
    inside = (cut[0] > 0.5).nonzero()
    assert inside[:, 0].min() == 22 + 5 and inside[:, 0].max() == 22 + 9
    assert inside[:, 1].min() == 17 + 10 and inside[:, 1].max() == 17 + 19


def test_accumulated_window_probabilities_go_back_to_the_slice_shape():
    tiling = frame((40, 60), 2.0)
    accumulator = ProbabilityAccumulator(tiling, 1, 2, torch.device("cpu"))
    rows = torch.arange(80, dtype=torch.float32).view(1, 80, 1).expand(1, 80, 120) / 79
    framed = torch.cat([rows, 1 - rows])[None]
    for r, c in tiling.windows:
        accumulator.add(framed[:, :, r : r + 64, c : c + 64], [0], [(r, c)])
    result = accumulator.result()
    assert result.shape == (2, 1, 40, 60)
    expected = torch.nn.functional.interpolate(framed, (40, 60), mode="bilinear")
    torch.testing.assert_close(result.transpose(0, 1), expected)

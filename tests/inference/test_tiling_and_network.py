"""Windows, Gaussian weights, the network interface, its hooks and what the predictor leaves
unchanged in a trainer's network."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from samseg.inference import (
    PlaneTiling,
    SlicePredictor,
    as_slice_network,
    gaussian_weights,
    keep_largest_component_per_label,
    load_trained_network,
    window_starts,
)
from samseg.inference.tiling import ProbabilityAccumulator
from tests.inference.helpers import blocky_case, make_description, make_plans, write_image


def test_window_starts_cover_the_axis_evenly_like_nnunet():
    assert window_starts(100, 64, 0.5) == [0, 18, 36]
    assert window_starts(64, 64, 0.5) == [0]
    assert window_starts(129, 64, 1.0) == [0, 32, 65]
    with pytest.raises(ValueError, match="shorter"):
        window_starts(10, 64, 0.5)


def test_gaussian_peaks_at_the_centre_and_never_vanishes():
    weights = gaussian_weights(64)
    assert weights.shape == (64, 64)
    assert weights.max() == 1 and weights.min() > 0
    torch.testing.assert_close(weights, weights.flip(0).flip(1))
    assert weights[31, 31] > weights[31, 10] > weights[31, 0]


def reference_gaussian(size: int, sigma: float) -> np.ndarray:
    """exp(-d^2 / (2 sigma^2)) of the distance d to the window centre, divided by its peak."""
    offsets = np.arange(size) - (size - 1) / 2
    squared = offsets[:, None] ** 2 + offsets[None, :] ** 2
    values = np.exp(-squared / (2 * sigma**2))
    return values / values.max()


def test_gaussian_sigma_is_an_eighth_of_the_window():
    weights = gaussian_weights(64).double().numpy()
    # (31, 47) lies 0.5 and 15.5 pixels from the centre (31.5, 31.5); the peak 0.5 and 0.5.
    assert weights[31, 47] == pytest.approx(np.exp(-(0.25 + 240.25 - 0.5) / 128), rel=1e-6)
    np.testing.assert_allclose(weights, reference_gaussian(64, 8.0), rtol=1e-6)


def test_overlapping_windows_are_blended_by_their_gaussian_weights():
    tiling = PlaneTiling.plan((64, 96), 64, "sliding_window", 0.5)
    assert tiling.windows == ((0, 0), (0, 32))
    accumulator = ProbabilityAccumulator(tiling, 1, 2, torch.device("cpu"))
    left = torch.tensor([0.9, 0.1]).view(1, 2, 1, 1).expand(1, 2, 64, 64)
    right = torch.tensor([0.2, 0.8]).view(1, 2, 1, 1).expand(1, 2, 64, 64)
    accumulator.add(left, [0], [(0, 0)])
    accumulator.add(right, [0], [(0, 32)])
    result = accumulator.result().numpy()
    assert result.shape == (2, 1, 64, 96)

    gaussian = reference_gaussian(64, 8.0)
    weight_left = np.zeros((64, 96))
    weight_left[:, :64] = gaussian
    weight_right = np.zeros((64, 96))
    weight_right[:, 32:] = gaussian
    share_left = weight_left / (weight_left + weight_right)
    expected = share_left * 0.9 + (1 - share_left) * 0.2
    np.testing.assert_allclose(result[0, 0], expected, atol=1e-6)
    np.testing.assert_allclose(result[1, 0], 1 - expected, atol=1e-6)
    assert result[0, 0, 10, 40] != pytest.approx(result[0, 0, 10, 56], abs=0.05)


def test_tiling_resizes_small_slices_and_pads_short_sides_of_large_ones():
    assert PlaneTiling.plan((40, 60), 64, "sliding_window", 0.5).resizes
    assert PlaneTiling.plan((100, 200), 64, "resize", 0.5).resizes
    tiling = PlaneTiling.plan((40, 100), 64, "sliding_window", 0.5)
    assert tiling.padding == ((12, 12), (0, 0))
    assert tiling.padded_shape == (64, 100)
    assert [w for w in tiling.windows] == [(0, 0), (0, 18), (0, 36)]
    slices = torch.arange(40 * 100, dtype=torch.float32).reshape(1, 1, 40, 100)
    cut = tiling.cut(slices.expand(3, 1, 40, 100), tiling.windows)
    assert cut.shape == (3, 1, 64, 64)
    torch.testing.assert_close(cut[1, 0, 12:52], slices[0, 0, :, 18:82])
    assert cut[:, :, :12].abs().sum() == 0


class ScaledInput(torch.nn.Module):
    """Logits = the input channels scaled to [0, 1] (3 classes), behind a dropout that
    makes train mode visible; counts its hook calls."""

    input_size = 32
    num_classes = 3

    def __init__(self):
        super().__init__()
        self.dropout = torch.nn.Dropout(0.5)
        self.cases = []
        self.batches = 0

    def begin_case(self, context):
        self.cases.append(context.case.properties.provenance.files[0].name)

    def begin_batch(self, batch):
        self.batches += 1

    def forward(self, images):
        return self.dropout(images / 255)


def test_hooks_are_called_and_train_flags_are_restored(tmp_path):
    plans = make_plans(input_size=32, num_labels=2, large_slice_handling="sliding_window")
    network = ScaledInput().train()
    predictor = SlicePredictor(
        [network], plans, "2d_32", make_description(plans), show_progress=False
    )
    cases = {}
    for index in range(2):
        image, _ = blocky_case((3, 30, 50), seed=index, num_labels=2)
        path = write_image(tmp_path / f"c{index}_0000.nii.gz", image, (3.0, 0.8, 0.8))
        cases[f"c{index}"] = [path]
    first = predictor.predict_to_files(cases, tmp_path / "a")
    second = predictor.predict_to_files(cases, tmp_path / "b")
    assert network.cases == ["c0_0000.nii.gz", "c1_0000.nii.gz"] * 2
    assert network.batches > 0
    assert network.training and network.dropout.training
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]


def test_segmenter_adapter_returns_logits_and_keeps_the_network_precision(trained_model):
    network = load_trained_network(trained_model.folder / "fold_0" / "checkpoint_final.pth")
    network.precision = "auto"
    adapter = as_slice_network(network, "bf16")
    images = 255 * torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        logits = adapter(images)
    assert logits.shape == (2, 4, 64, 64) and logits.dtype == torch.float32
    assert network.precision == "auto"
    with pytest.raises(TypeError, match="input_size"):
        as_slice_network(lambda images: images)


def test_largest_component_keeps_one_blob_per_label():
    segmentation = np.zeros((6, 10, 10), np.uint8)
    segmentation[1:4, 1:4, 1:4] = 1
    segmentation[5, 8, 8] = 1
    segmentation[0, 0, 9] = 2
    kept = keep_largest_component_per_label(segmentation)
    assert kept[5, 8, 8] == 0 and kept[2, 2, 2] == 1 and kept[0, 0, 9] == 2
    assert (kept == 1).sum() == 27


@pytest.mark.parametrize(
    ("shape", "handling", "scaling", "zoom"),
    [
        ((40, 60), "sliding_window", "resize_to_fill", 1.0),  # resized to fill
        ((40, 100), "sliding_window", "resize_to_fill", 1.0),  # windows, padded rows
        ((50, 70), "sliding_window", "fixed_scale", 1.7),  # resampled, then windows
    ],
)
def test_label_cuts_equal_the_training_views_labels(shape, handling, scaling, zoom):
    from samseg.slice_frame import SliceFrame
    from samseg.training.data.crop import padded_crop
    from samseg.training.data.resize import resize_labels

    rng = np.random.default_rng(0)
    label = rng.integers(0, 4, size=shape).astype(np.uint8)
    tiling = PlaneTiling.plan(shape, 64, handling, 0.5, slice_scaling=scaling, zoom=zoom)
    frame = SliceFrame.plan(shape, 64, handling, 0.5, slice_scaling=scaling, zoom=zoom)
    framed = resize_labels(label, frame.framed_shape) if frame.resamples else label
    windows = list(tiling.windows) if not tiling.resizes else [None]
    cut = tiling.cut_labels(torch.from_numpy(label)[None].expand(len(windows), -1, -1), windows)
    assert cut.dtype == torch.uint8
    if tiling.resizes:
        expected = [resize_labels(label, (64, 64))]
    else:
        (top, _), (left, _) = frame.padding
        expected = [padded_crop(framed, r - top, c - left, 64) for r, c in windows]
    assert np.array_equal(cut.numpy(), np.stack(expected))

"""Tiny volumes, plans, an oracle network and model folders for the inference tests."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import SimpleITK as sitk
import torch
import torch.nn.functional as F
from torch import nn

from samseg.dataset import DatasetDescription, LabelScheme
from samseg.inference import SliceBatch
from samseg.inference.case_context import CaseContext
from samseg.plans import ChannelNormalization, LabelHandling, Plans, SliceConfiguration
from samseg.preprocessing import PreprocessedCase
from samseg.slices import sam_input_slices

# Direction matrices (SimpleITK, LPS world) of files stored in RAS, LPS and LAS voxel order.
ORIENTATIONS = {
    "RAS": (-1.0, 0, 0, 0, -1.0, 0, 0, 0, 1.0),
    "LPS": (1.0, 0, 0, 0, 1.0, 0, 0, 0, 1.0),
    "LAS": (1.0, 0, 0, 0, -1.0, 0, 0, 0, 1.0),
}
ORIGIN = (-12.5, 30.25, 7.0)


def write_image(
    path: Path,
    array: np.ndarray,
    spacing_zyx: Sequence[float],
    direction: Sequence[float] = ORIENTATIONS["LPS"],
    origin: Sequence[float] = ORIGIN,
) -> Path:
    """Write a (z, y, x) array with SimpleITK; spacing in mm, (z, y, x) order."""
    image = sitk.GetImageFromArray(array)
    image.SetSpacing(tuple(float(s) for s in reversed(spacing_zyx)))
    image.SetOrigin(tuple(float(o) for o in origin))
    image.SetDirection(tuple(float(d) for d in direction))
    path.parent.mkdir(parents=True, exist_ok=True)
    sitk.WriteImage(image, str(path))
    return path


def blocky_case(
    shape: Sequence[int], seed: int = 0, num_labels: int = 3, thin: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """A CT-like (z, y, x) int16 image with a zero border and a uint8 label 0..num_labels.

    Blocks start and end on even voxels (they survive halving the resolution exactly); with
    ``thin``, label ``num_labels`` is also a one-voxel line.
    """
    rng = np.random.default_rng(seed)
    z, y, x = shape
    image = np.zeros(shape, dtype=np.int16)
    image[:, 2 : y - 2, 2 : x - 2] = rng.integers(-200, 300, size=(z, y - 4, x - 4))
    label = np.zeros(shape, dtype=np.uint8)
    label[1 : z - 1, 4 : y // 2, 4 : x // 2] = 1
    label[z // 3 : z, y // 2 : y - 4, x // 2 : x - 4] = 2
    if thin:
        label[1 : z - 1, 6 : y - 6, x // 2 + 1] = num_labels
    else:
        label[0 : z // 2, 2 * (y // 4) : 2 * (y // 4) + 2, 2 : x - 2] = num_labels
    image[label > 0] += 150 * label[label > 0]
    return image, label


def make_plans(
    *,
    input_size: int = 64,
    large_slice_handling: str = "resize",
    transpose_forward: tuple[int, int, int] = (0, 1, 2),
    target_spacing: Sequence[float] = (3.0, 0.8, 0.8),
    num_labels: int = 3,
    regions: dict[str, tuple[int, ...]] | None = None,
    context_slices: int = 1,
    batch_size: int = 8,
    channels: Sequence[str] = ("CT",),
) -> Plans:
    """Plans with one configuration ``2d_<input_size>`` (``model_type`` vit_tiny)."""
    configuration = SliceConfiguration(
        input_size=input_size,
        large_slice_handling=large_slice_handling,
        sliding_window_step=0.5,
        context_slices=context_slices,
        batch_size=batch_size,
        model_type="vit_tiny",
        data_identifier="samsegPlans_2d",
    )
    normalization = [
        ChannelNormalization("CTNormalization", -300.0, 800.0)
        if name == "CT"
        else ChannelNormalization("ZScoreNormalization", -3.0, 3.0)
        for name in channels
    ]
    if regions is None:
        class_names = ("background", *(f"organ{v}" for v in range(1, num_labels + 1)))
        order = None
    else:
        class_names = ("background", *regions)
        order = tuple(min(values) for values in regions.values())
    return Plans(
        dataset_name="Dataset950_Inference",
        plans_name="samsegPlans",
        planner="test",
        image_reader_writer="SimpleITKIO",
        slice_axis=transpose_forward[0],
        transpose_forward=transpose_forward,
        original_median_spacing=tuple(target_spacing),
        target_spacing=tuple(target_spacing),
        median_shape_after_resampling=(8, 32, 32),
        normalization=tuple(normalization),
        label_handling=LabelHandling(
            class_names=class_names,
            label_values=tuple(range(num_labels + 1)),
            regions_class_order=order,
        ),
        configurations={f"2d_{input_size}": configuration},
        gpu_memory_target_gb=8.0,
    )


def make_description(plans: Plans, channels: Sequence[str] = ("CT",)) -> DatasetDescription:
    """The dataset.json matching ``plans``' labels."""
    handling = plans.label_handling
    order = handling.regions_class_order
    if order is None:
        labels = {name: value for value, name in enumerate(handling.class_names)}
    else:
        top = max(handling.label_values)
        regions = zip(handling.class_names[1:], order, strict=True)
        labels = {"background": 0, **{name: list(range(v, top + 1)) for name, v in regions}}
    return DatasetDescription(
        channel_names=tuple(channels),
        labels=LabelScheme.from_json(labels, None if order is None else list(order), Path("x")),
        file_ending=".nii.gz",
        num_training=1,
    )


class OracleNetwork(nn.Module):
    """Returns the preprocessed ground truth of the slices it is given, as logits.

    It learns the case from the ``begin_case`` hook (by the name of the case's first image
    file) and which slices, windows and flips it is given from the ``begin_batch`` hook. It
    checks that its input images are exactly what that description says, then returns the
    one-hot label cut the same way, times ``scale``.
    """

    def __init__(
        self,
        labels: dict[str, np.ndarray],
        num_classes: int,
        input_size: int,
        context: int,
        regions: Sequence[Sequence[int]] | None = None,
    ) -> None:
        """
        Args:
            labels: first image file name -> preprocessed (slices, R, C) label.
            num_classes: C.
            input_size: S.
            context: the configuration's context slices.
            regions: for region-based labels, the label values of each region; the logits
                are then +-100 per region (channel 0 unused).
        """
        super().__init__()
        self.labels = labels
        self.regions = regions
        self.num_classes = num_classes
        self.input_size = input_size
        self.context = context
        self.case: PreprocessedCase | None = None
        self.batch: SliceBatch | None = None
        self.calls = 0

    def begin_case(self, context: CaseContext) -> None:
        self.case = context.case

    def begin_batch(self, batch: SliceBatch) -> None:
        self.batch = batch

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        batch, case = self.batch, self.case
        indices = list(batch.slice_indices)
        source = torch.from_numpy(sam_input_slices(case.data, indices, self.context))
        expected = _flip(batch.tiling.cut(source, batch.windows), batch.flip_dims)
        assert torch.equal(images, expected), "the images are not what SliceBatch describes"
        label = torch.from_numpy(self.labels[case.properties.provenance.files[0].name][indices])
        if self.regions is None:
            target = F.one_hot(label.long(), self.num_classes).permute(0, 3, 1, 2)
        else:
            inside = [torch.isin(label, torch.tensor(values)) for values in self.regions]
            target = torch.stack([label == 0, *inside], dim=1)
        cut = batch.tiling.cut(target.float(), batch.windows)
        self.calls += 1
        scores = cut if self.regions is None else 2 * cut - 1
        return 100.0 * _flip(scores, batch.flip_dims)


def _flip(tensor: torch.Tensor, dims: tuple[int, ...]) -> torch.Tensor:
    return tensor.flip(dims) if dims else tensor

"""Experiment planners: turn a fingerprint into :class:`Plans`.

:class:`SliceSAMPlanner` is the default. Variants are small subclasses that change class
attributes (see :class:`SynapseCTWindowPlanner`); users select one by name with ``-pl``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from samseg.dataset import DatasetDescription
from samseg.io import NaturalImage2DIO
from samseg.io.orientation import Reorientation, majority_orientation
from samseg.plans import (
    ChannelNormalization,
    LabelHandling,
    Plans,
    SliceConfiguration,
)

if TYPE_CHECKING:
    from samseg.models.encoders import EncoderFamily

ZOOM_DECIMALS = 4
"""Decimals of a planned zoom (rounded down, so the median slice never exceeds the input)."""
PHOTO_CHANNEL_NAMES = frozenset({"r", "g", "b", "red", "green", "blue", "rgb_to_0_1"})
"""Channel names (lower case) that mark 8-bit photo channels; ``rgb_to_0_1`` is the name
nnU-Net users give a channel to choose its RGB scheme."""
PHOTO_RANGE = (0.0, 255.0)


class SliceSAMPlanner:
    """Plans 2D-slice SAM training: slice axis, in-plane spacing, normalization, batch sizes.

    Class attributes are the knobs a variant overrides:

    Attributes:
        plans_name: file stem of the plans (``samsegPlans.json``).
        input_sizes: one configuration ``2d_<size>`` per SAM input size (pixels); each must
            be an input size the model type's encoder family accepts.
        model_type: backbone of every configuration (one of
            ``samseg.models.encoders.MODEL_TYPES``); its encoder family's memory figures size
            the batches.
        slice_scaling: ``fixed_scale`` (each configuration's network pixel has one size in
            mm, see :meth:`configure`) or ``resize_to_fill`` (each slice resized to fill the
            input, the SAMed / MedSAM behaviour).
        gpu_memory_target_gb: memory budget for one training batch.
        max_batch_size: upper bound on the estimated batch size.
        context_slices: neighbours per side fed as extra input channels.
        sliding_window_above: when the median resampled slice's largest side exceeds this
            multiple of the input size, slices are covered by sliding windows at the target
            spacing (zoom 1) instead of being shrunk into the input.
        median_extent_fill: ``fixed_scale``: the fraction of the input side that the median
            slice's largest side fills (1: it fills the input; 0.9 leaves room for slices 11 %
            larger before they need two windows per axis).
        sliding_window_step: window step as a fraction of the input size.
        ct_window: a fixed HU window for CT channels; ``None`` clips to the foreground
            0.5 and 99.5 percentiles of the fingerprint, as nnU-Net does.
        zscore_clip: z-score range (standard deviations) mapped to 0-255 for non-CT channels.
    """

    plans_name = "samsegPlans"
    input_sizes: tuple[int, ...] = (256, 512, 1024)
    model_type = "vit_b"
    slice_scaling = "fixed_scale"
    gpu_memory_target_gb = 24.0
    max_batch_size = 64
    context_slices = 1
    sliding_window_above = 1.5
    median_extent_fill = 1.0
    sliding_window_step = 0.5
    ct_window: tuple[float, float] | None = None
    zscore_clip: tuple[float, float] = (-3.0, 3.0)

    def __init__(self, dataset_name: str, description: DatasetDescription, fingerprint: dict):
        self.dataset_name = dataset_name
        self.description = description
        self.fingerprint = fingerprint

    @property
    def data_identifier(self) -> str:
        """Folder of the preprocessed data; shared by all configurations of these plans."""
        return f"{self.plans_name}_2d"

    def plan(self) -> Plans:
        """Decide the plans from the fingerprint."""
        orientation = self.training_orientation()
        spacings, shapes = self._reoriented_spacings_and_shapes(orientation)
        median_spacing = np.median(spacings, axis=0)
        slice_axis = self.choose_slice_axis(median_spacing)
        transpose = (slice_axis, *(a for a in range(3) if a != slice_axis))
        target_spacing = tuple(float(s) for s in median_spacing)
        shape = self._median_shape_after_resampling(spacings, shapes, target_spacing, transpose)
        configurations = {f"2d_{size}": self.configure(size, shape) for size in self.input_sizes}
        labels = self.description.labels
        return Plans(
            dataset_name=self.dataset_name,
            plans_name=self.plans_name,
            planner=type(self).__name__,
            image_reader_writer=self.description.image_reader_writer().name,
            slice_axis=slice_axis,
            transpose_forward=transpose,
            original_median_spacing=target_spacing,
            target_spacing=target_spacing,
            median_shape_after_resampling=shape,
            normalization=tuple(
                self.normalization(channel, name)
                for channel, name in enumerate(self.description.channel_names)
            ),
            label_handling=LabelHandling(
                class_names=tuple(labels.class_names),
                label_values=tuple(labels.label_values),
                regions_class_order=labels.regions_class_order,
                ignore_label=labels.ignore_label,
            ),
            configurations=configurations,
            gpu_memory_target_gb=self.gpu_memory_target_gb,
            foreground_intensity_properties_per_channel=self.fingerprint[
                "foreground_intensity_properties_per_channel"
            ],
            orientation=orientation,
        )

    def training_orientation(self) -> str | None:
        """The majority axis codes of the training cases; ``None`` for a fingerprint written
        before samseg recorded them (cases then keep their stored voxel order)."""
        orientations = self.fingerprint.get("orientations")
        return majority_orientation(orientations) if orientations else None

    def _reoriented_spacings_and_shapes(
        self, orientation: str | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per case (z, y, x) spacing (mm) and cropped shape (voxels), float64 (cases, 3),
        in the axis order of ``orientation`` (the fingerprint's own order when ``None``)."""
        spacings = np.asarray(self.fingerprint["spacings"], dtype=np.float64)
        shapes = np.asarray(self.fingerprint["shapes_after_crop"], dtype=np.float64)
        if orientation is not None:
            for case, codes in enumerate(self.fingerprint["orientations"]):
                axes = list(Reorientation.between(codes, orientation).axes)
                spacings[case], shapes[case] = spacings[case, axes], shapes[case, axes]
        return spacings, shapes

    @staticmethod
    def choose_slice_axis(median_spacing: np.ndarray) -> int:
        """The coarsest-spaced axis; axis 0 (z) on ties (within 1%), so isotropic data
        is sliced axially as usual."""
        coarsest = float(np.max(median_spacing))
        return next(a for a in range(3) if median_spacing[a] >= coarsest * 0.99)

    @staticmethod
    def _median_shape_after_resampling(
        spacings: np.ndarray,
        shapes: np.ndarray,
        target_spacing: tuple[float, ...],
        transpose: tuple[int, ...],
    ) -> tuple[int, int, int]:
        """Median (slice, row, column) shape in voxels after cropping and in-plane resampling."""
        order = list(transpose)
        shapes = shapes[:, order]
        scale = spacings[:, order[1:]] / np.asarray(target_spacing)[order[1:]]
        shapes[:, 1:] = np.round(shapes[:, 1:] * scale)
        return tuple(int(v) for v in np.median(shapes, axis=0))

    def configure(self, input_size: int, median_shape: tuple[int, int, int]) -> SliceConfiguration:
        """The configuration for one SAM input size.

        ``fixed_scale``: the zoom from the target spacing to the network input makes the
        median slice's largest side fill ``median_extent_fill`` of the input (rounded down to
        :data:`ZOOM_DECIMALS`), unless that side exceeds ``sliding_window_above`` times the
        input: then zoom 1 and sliding windows. ``resize_to_fill``: slices are resized to the
        input, or covered by sliding windows under the same condition.
        """
        family = self.encoder_family()
        family.check_input_size(input_size)
        largest_side = max(median_shape[1:])
        too_large = largest_side > self.sliding_window_above * input_size
        if self.slice_scaling == "fixed_scale":
            handling = "sliding_window"
            fill = self.median_extent_fill * input_size / largest_side
            zoom = 1.0 if too_large else _round_down(fill, ZOOM_DECIMALS)
        else:
            handling = "sliding_window" if too_large else "resize"
            zoom = 1.0
        return SliceConfiguration(
            input_size=input_size,
            large_slice_handling=handling,
            sliding_window_step=self.sliding_window_step,
            context_slices=self.context_slices if self.description.num_channels == 1 else 0,
            batch_size=self.estimate_batch_size(input_size, median_shape[0]),
            model_type=self.model_type,
            data_identifier=self.data_identifier,
            slice_scaling=self.slice_scaling,
            zoom=zoom,
        )

    def encoder_family(self) -> EncoderFamily:
        """The encoder family of :attr:`model_type` (unknown types: a clear error)."""
        # Imported here: the encoder modules import torch, which planning never runs.
        from samseg.models.encoders import get_encoder_family

        return get_encoder_family(self.model_type)

    def estimate_batch_size(self, input_size: int, median_slices: int) -> int:
        """Slices per batch that fit ``gpu_memory_target_gb`` when fine-tuning every weight.

        Memory = 16 bytes per parameter (weights, gradients, two AdamW moments) plus a per-
        slice activation cost that grows with the pixel count, (input_size / 512) ** 2 (the
        encoder family's :class:`~samseg.models.encoders.MemoryFigures`). The batch never
        exceeds ``max_batch_size`` nor 5% of all training slices (as nnU-Net caps its batch at
        5% of the dataset).
        """
        memory = self.encoder_family().memory(self.model_type)
        static_gb = memory.parameters_millions * 1e6 * 16 / 1e9
        fits = math.floor((self.gpu_memory_target_gb - static_gb) / memory.per_slice_gb(input_size))
        total_slices = median_slices * len(self.fingerprint["spacings"])
        return int(max(1, min(fits, self.max_batch_size, math.floor(0.05 * total_slices))))

    def normalization(self, channel: int, channel_name: str) -> ChannelNormalization:
        """Photo channels (named R, G, B or ``rgb_to_0_1``, or any channel of a dataset of
        PNG/JPEG/BMP photos): kept 0-255; CT channels: an HU window; every other modality:
        clipped z-score."""
        photos = self.description.image_reader_writer().name == NaturalImage2DIO.name
        if photos or channel_name.strip().lower() in PHOTO_CHANNEL_NAMES:
            return ChannelNormalization("RGBNormalization", *PHOTO_RANGE)
        if channel_name.strip().lower() == "ct":
            if self.ct_window is not None:
                low, high = self.ct_window
            else:
                stats = self.fingerprint["foreground_intensity_properties_per_channel"][
                    str(channel)
                ]
                low, high = stats["percentile_00_5"], stats["percentile_99_5"]
                if high <= low:
                    high = low + 1.0
            return ChannelNormalization("CTNormalization", float(low), float(high))
        return ChannelNormalization("ZScoreNormalization", *map(float, self.zscore_clip))


class SynapseCTWindowPlanner(SliceSAMPlanner):
    """The TransUNet/SAMed Synapse protocol: CT clipped to the fixed window [-125, 275] HU."""

    plans_name = "samsegPlansSynapseWindow"
    ct_window = (-125.0, 275.0)


class DemoTinyPlanner(SliceSAMPlanner):
    """Plans ``samsegDemoPlans``: one 128-pixel vit_tiny configuration, ``2d_128``, which keeps
    training the CPU demo (``scripts/demo.sh``) to minutes. It resizes slices to fill the
    input, as when the demo's documented results were measured."""

    plans_name = "samsegDemoPlans"
    input_sizes = (128,)
    model_type = "vit_tiny"
    slice_scaling = "resize_to_fill"


class ResizeToFillPlanner(SliceSAMPlanner):
    """Plans ``samsegPlansResizeToFill``: every slice resized to fill the input (the SAMed /
    MedSAM behaviour), so a network pixel's size in mm varies with each slice's extent."""

    plans_name = "samsegPlansResizeToFill"
    slice_scaling = "resize_to_fill"


class LiteMedSAMPlanner(SliceSAMPlanner):
    """Plans ``samsegLiteMedSAMPlans``: one LiteMedSAM configuration, ``2d_256`` (model type
    ``litemedsam``, the input its pretrained TinyViT weights were trained at), on any dataset,
    the demo dataset included. No context slices: each grey slice is repeated into the three
    channels, the images LiteMedSAM was trained on (neighbouring slices as channels cost the
    packaged weights about 0.1 box Dice on the shared CT: 0.80 against 0.90, see
    documentation/evaluation.md)."""

    plans_name = "samsegLiteMedSAMPlans"
    input_sizes = (256,)
    model_type = "litemedsam"
    context_slices = 0


class DemoLiteMedSAMPlanner(LiteMedSAMPlanner):
    """Plans ``samsegDemoLiteMedSAMPlans``: one LiteMedSAM configuration, ``2d_128``, for the
    CPU demo (``scripts/demo.sh``). 128 pixels keep the demo slices' resolution at a quarter of
    256's encoder and decoder cost; the median slice fills 90 % of the input, so every demo case
    (largest sides 104-114 pixels around a median of 111) fits one window: one encoder pass per
    slice. No context slices, as for every LiteMedSAM plan."""

    plans_name = "samsegDemoLiteMedSAMPlans"
    input_sizes = (128,)
    median_extent_fill = 0.9


def _round_down(value: float, decimals: int) -> float:
    """``value`` rounded down to ``decimals`` decimals."""
    factor = 10**decimals
    return math.floor(value * factor) / factor

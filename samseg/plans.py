"""``samsegPlans.json``: how a dataset is sliced, normalized and fed to SAM.

The plans are the single source of truth for preprocessing, training and prediction. They are
plain JSON, meant to be read and edited by hand; :meth:`Plans.load` validates an edited file
and names the offending key.

Axes: every per-axis list is in the (z, y, x) array order of the raw images reoriented to
the plans' ``orientation`` (the majority voxel order of the training cases). Preprocessing
moves the slice axis first (``transpose_forward``), so preprocessed arrays are
(channel, slice, row, column) and every 2D slice is (row, column).
"""

from __future__ import annotations

import math
import os
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal, get_type_hints

from samseg.errors import SamsegInputError
from samseg.io import read_json, write_json
from samseg.io.orientation import check_axis_codes
from samseg.json_fields import JsonObject

LargeSliceHandling = Literal["resize", "sliding_window"]
#: The normalization scheme names plans may use; samseg.preprocessing maps each to its class.
NORMALIZATION_SCHEME_NAMES = (
    "CTNormalization",
    "ZScoreNormalization",
    "RGBNormalization",
    "RGBTo01Normalization",
)
LARGE_SLICE_HANDLINGS = ("resize", "sliding_window")
#: How a slice is scaled into the network input (``SliceConfiguration.slice_scaling``).
SLICE_SCALINGS = ("fixed_scale", "resize_to_fill")


@dataclass(frozen=True)
class ChannelNormalization:
    """How one input channel is mapped to SAM's 0-255 pixel range.

    Attributes:
        scheme: ``CTNormalization`` clips intensities (HU) to [low, high] and maps that window
            linearly to [0, 255]. ``ZScoreNormalization`` subtracts the mean and divides by the
            standard deviation of the image's non-zero region, clips to [low, high] standard
            deviations and maps that range to [0, 255]; voxels outside the region become 0.
            ``RGBNormalization`` (alias ``RGBTo01Normalization``, nnU-Net's name) keeps 8-bit
            photo values, already 0-255, as they are.
        low, high: the clipping window, in HU for CT, in standard deviations for z-score;
            0 and 255 (the 8-bit range, not used to clip) for photos.
    """

    scheme: str
    low: float
    high: float

    def validate(self, source: Path) -> None:
        if self.scheme not in NORMALIZATION_SCHEME_NAMES:
            raise SamsegInputError(
                f"{source}: expected a normalization scheme in {NORMALIZATION_SCHEME_NAMES}, "
                f"found {self.scheme!r}"
            )
        if not self.low < self.high:
            raise SamsegInputError(
                f"{source}: expected normalization low < high, found {self.low} >= {self.high}"
            )


@dataclass(frozen=True)
class LabelHandling:
    """How label maps become training targets (from dataset.json ``labels``).

    Attributes:
        class_names: output-channel names, background first.
        label_values: every value a label file may contain.
        regions_class_order: nnU-Net's region order, for region-based labels.
        ignore_label: value excluded from loss and metrics, if any.
        resampling: ``one_hot_linear``: each class's indicator is interpolated linearly and
            the arg-max taken, so thin structures survive resampling.
    """

    class_names: tuple[str, ...]
    label_values: tuple[int, ...]
    regions_class_order: tuple[int, ...] | None = None
    ignore_label: int | None = None
    resampling: str = "one_hot_linear"

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


@dataclass(frozen=True)
class SliceConfiguration:
    """One way of feeding 2D slices to SAM, named after its input size (``2d_512``).

    Attributes:
        input_size: side of SAM's square input, pixels.
        large_slice_handling: with ``resize_to_fill``, what happens to a resampled slice
            larger than the input: ``resize`` scales it down to the input; ``sliding_window``
            covers it with overlapping input-sized patches at full resolution (smaller slices
            are resized up to fill the input). ``fixed_scale`` needs ``sliding_window``.
        sliding_window_step: patch step as a fraction of the input size (0.5: half overlap).
        context_slices: for single-channel data, SAM's three input channels are the slices
            (s - k, s, s + k) with k = context_slices (1: the slice and its two neighbours;
            0: the slice three times); see ``samseg.slices``.
        batch_size: slices per training batch, from the model size and the memory target.
        model_type: SAM backbone, one of ``samseg.models.encoders.MODEL_TYPES`` (``vit_b``,
            ``vit_l``, ``vit_h``, ``vit_small``, ``vit_tiny``, ``litemedsam``).
        data_identifier: folder of the preprocessed data this configuration reads.
        slice_scaling: ``fixed_scale``: every slice is resampled by ``zoom`` into the network
            frame, so one network pixel has the same size in mm in every case (target in-plane
            spacing / zoom, see :meth:`Plans.network_spacing`); a framed slice larger than the
            input is covered by sliding windows, a smaller one is zero-padded (centred).
            ``resize_to_fill`` (the SAMed / MedSAM behaviour, and that of plans written before
            this field existed): a slice is resized to fill the input (see
            ``large_slice_handling``), so the pixel size depends on each slice's extent.
        zoom: network pixels per preprocessed pixel along rows and columns (``fixed_scale``
            only; 0.5 halves the resolution). The planner makes the median slice fill the input.
    """

    input_size: int
    large_slice_handling: str
    sliding_window_step: float
    context_slices: int
    batch_size: int
    model_type: str
    data_identifier: str
    slice_scaling: str = "resize_to_fill"
    zoom: float = 1.0

    def validate(self, name: str, source: Path) -> None:
        if self.input_size <= 0 or self.input_size % 16:
            raise SamsegInputError(
                f"{source}: configuration {name}: expected input_size a positive multiple of 16, "
                f"found {self.input_size}"
            )
        if self.large_slice_handling not in LARGE_SLICE_HANDLINGS:
            raise SamsegInputError(
                f"{source}: configuration {name}: expected large_slice_handling in "
                f"{LARGE_SLICE_HANDLINGS}, found {self.large_slice_handling!r}"
            )
        if not 0 < self.sliding_window_step <= 1:
            raise SamsegInputError(
                f"{source}: configuration {name}: expected 0 < sliding_window_step <= 1, "
                f"found {self.sliding_window_step}"
            )
        if self.context_slices < 0 or self.batch_size < 1:
            raise SamsegInputError(
                f"{source}: configuration {name}: expected context_slices >= 0 and batch_size "
                f">= 1, found {self.context_slices} and {self.batch_size}"
            )
        if self.slice_scaling not in SLICE_SCALINGS:
            raise SamsegInputError(
                f"{source}: configuration {name}: expected slice_scaling in {SLICE_SCALINGS}, "
                f"found {self.slice_scaling!r}"
            )
        if not 0 < self.zoom < math.inf:
            raise SamsegInputError(
                f"{source}: configuration {name}: expected a positive finite zoom, "
                f"found {self.zoom}"
            )
        if self.slice_scaling == "fixed_scale" and self.large_slice_handling != "sliding_window":
            raise SamsegInputError(
                f"{source}: configuration {name}: expected large_slice_handling "
                f"'sliding_window' with slice_scaling 'fixed_scale' (slices larger than the "
                f"frame are covered by windows), found {self.large_slice_handling!r}"
            )


@dataclass(frozen=True)
class Plans:
    """Everything later stages need to know about a dataset, decided once by a planner.

    Attributes:
        dataset_name: ``DatasetXXX_Name``.
        plans_name: file stem (``samsegPlans``); results folders carry it.
        planner: class name of the planner that wrote these plans.
        image_reader_writer: reader/writer name used for the raw files.
        slice_axis: axis of the raw (z, y, x) array that slices are taken along (the
            coarsest-spaced axis).
        transpose_forward: axis permutation that moves ``slice_axis`` first.
        original_median_spacing: median raw spacing, mm, (z, y, x).
        target_spacing: spacing after resampling, mm, (z, y, x) order; the slice-axis entry
            is informative only, since the slice axis is never resampled.
        median_shape_after_resampling: median (slice, row, column) shape after cropping and
            resampling, voxels.
        normalization: one entry per input channel.
        label_handling: see :class:`LabelHandling`.
        configurations: by name (``2d_256``, ``2d_512``, ``2d_1024``).
        gpu_memory_target_gb: memory budget the batch sizes were estimated for.
        foreground_intensity_properties_per_channel: copied from the fingerprint.
        orientation: axis codes (``LPS``, ``RAS``, ...; see ``samseg.io.orientation``) of
            the training images' voxel order, the majority of the training cases. Every case
            is reoriented to it (axis permutation and flips, no resampling) before any other
            step, so ``slice_axis`` and every per-axis list refer to this orientation.
            ``None`` in plans written before samseg recorded it: cases are then used in
            their stored voxel order.
    """

    dataset_name: str
    plans_name: str
    planner: str
    image_reader_writer: str
    slice_axis: int
    transpose_forward: tuple[int, int, int]
    original_median_spacing: tuple[float, float, float]
    target_spacing: tuple[float, float, float]
    median_shape_after_resampling: tuple[int, int, int]
    normalization: tuple[ChannelNormalization, ...]
    label_handling: LabelHandling
    configurations: dict[str, SliceConfiguration]
    gpu_memory_target_gb: float
    foreground_intensity_properties_per_channel: dict = field(default_factory=dict)
    orientation: str | None = None

    @property
    def transpose_backward(self) -> tuple[int, int, int]:
        """Inverse of ``transpose_forward``."""
        return tuple(int(i) for i in sorted(range(3), key=self.transpose_forward.__getitem__))

    @property
    def in_plane_target_spacing(self) -> tuple[float, float]:
        """Target (row, column) spacing in mm of the transposed slices."""
        _, row_axis, column_axis = self.transpose_forward
        return self.target_spacing[row_axis], self.target_spacing[column_axis]

    def network_spacing(self, name: str) -> tuple[float, float] | None:
        """(row, column) size in mm of one network input pixel of configuration ``name``:
        the in-plane target spacing divided by its zoom; ``None`` with ``resize_to_fill``,
        where it depends on each slice."""
        configuration = self.configuration(name)
        if configuration.slice_scaling != "fixed_scale":
            return None
        row, column = self.in_plane_target_spacing
        return row / configuration.zoom, column / configuration.zoom

    def configuration(self, name: str) -> SliceConfiguration:
        """The configuration called ``name``; an unknown name lists the known ones."""
        try:
            return self.configurations[name]
        except KeyError:
            raise SamsegInputError(
                f"plans {self.plans_name} of {self.dataset_name}: expected a configuration in "
                f"{sorted(self.configurations)}, found {name!r}"
            ) from None

    def to_json(self) -> dict:
        return asdict(self)

    def save(self, path: str | os.PathLike) -> None:
        """Write atomically as indented JSON."""
        write_json(self.to_json(), path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Plans:
        """Read and validate a plans file (possibly edited by hand)."""
        path = Path(path)
        data = JsonObject(read_json(path), path)
        data.check_keys(f.name for f in fields(cls))
        plans = cls(
            dataset_name=data.string("dataset_name"),
            plans_name=data.string("plans_name"),
            planner=data.string("planner"),
            image_reader_writer=data.string("image_reader_writer"),
            slice_axis=data.integer("slice_axis"),
            transpose_forward=data.integers("transpose_forward", 3),
            original_median_spacing=data.numbers("original_median_spacing", 3),
            target_spacing=data.numbers("target_spacing", 3),
            median_shape_after_resampling=data.integers("median_shape_after_resampling", 3),
            normalization=tuple(
                _from_json(ChannelNormalization, n) for n in data.objects("normalization")
            ),
            label_handling=_label_handling_from_json(data.object("label_handling")),
            configurations={
                name: _from_json(SliceConfiguration, config)
                for name, config in data.objects_by_name("configurations").items()
            },
            gpu_memory_target_gb=data.number("gpu_memory_target_gb"),
            foreground_intensity_properties_per_channel=data.object(
                "foreground_intensity_properties_per_channel", {}
            ).data,
            orientation=data.optional_string("orientation"),
        )
        plans.validate(path)
        return plans

    def validate(self, source: Path) -> None:
        """Check the invariants a hand edit could break."""
        if (
            sorted(self.transpose_forward) != [0, 1, 2]
            or self.transpose_forward[0] != self.slice_axis
        ):
            raise SamsegInputError(
                f"{source}: expected transpose_forward to be a permutation of (0, 1, 2) starting "
                f"with slice_axis {self.slice_axis}, found {list(self.transpose_forward)}"
            )
        if self.orientation is not None:
            check_axis_codes(self.orientation, f"{source}: orientation")
        if not self.configurations:
            raise SamsegInputError(f"{source}: expected at least one configuration, found none")
        for channel in self.normalization:
            channel.validate(source)
        for name, configuration in self.configurations.items():
            configuration.validate(name, source)


def _label_handling_from_json(data: JsonObject) -> LabelHandling:
    data.check_keys(f.name for f in fields(LabelHandling))
    return LabelHandling(
        class_names=data.strings("class_names"),
        label_values=data.integers("label_values"),
        regions_class_order=data.optional_integers("regions_class_order"),
        ignore_label=data.optional_integer("ignore_label"),
        resampling=data.string("resampling", "one_hot_linear"),
    )


_READERS = {str: JsonObject.string, int: JsonObject.integer, float: JsonObject.number}


def _from_json(cls: type, data: JsonObject) -> Any:
    """A flat dataclass of str / int / float fields, type-checked; a field with a default may
    be missing (plans written before it existed)."""
    data.check_keys(f.name for f in fields(cls))
    hints = get_type_hints(cls)
    values = {}
    for f in fields(cls):
        default = () if f.default is MISSING else (f.default,)
        values[f.name] = _READERS[hints[f.name]](data, f.name, *default)
    return cls(**values)

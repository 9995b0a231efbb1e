"""Probabilities of preprocessed slices -> a segmentation in the raw image's geometry.

The predictor hands over probabilities group by group of slices, (C, B, R, C) at the
preprocessed in-plane resolution. Each group is resampled in-plane to the cropped raw
resolution (linear interpolation of every class, one class map at a time) and turned into
labels at once, so the full (C, z, y, x) probability volume is never held unless asked for.
The slice axis is never resampled, so groups are independent.

When all groups are in, the (slice, row, column) labels are transposed back to the (z, y, x)
axis order, put into a background volume at the crop box, and that volume is reoriented back
from the plans' orientation to the raw file's voxel order (the exact inverse of the axis
permutation and flips of preprocessing; the identity for cases stored like the training data),
so the result has the raw image's shape and is written with its geometry.

Labels: softmax probabilities -> arg-max class index, which is the label value (dataset.json
labels are consecutive from background 0). Region-based labels (``regions_class_order``):
channel 0 is background and channel r >= 1 the sigmoid probability of region r; every region
with probability > 0.5 writes its ``regions_class_order`` value, in order, later regions on
top (nnU-Net's conversion).
"""

from __future__ import annotations

import numpy as np

from samseg.plans import LabelHandling
from samseg.preprocessing import CaseProperties, resample_argmax_in_plane, resample_in_plane

REGION_THRESHOLD = 0.5


class SegmentationExporter:
    """Collects per-slice-group probabilities into the raw-geometry segmentation."""

    def __init__(
        self,
        properties: CaseProperties,
        label_handling: LabelHandling,
        num_classes: int,
        *,
        keep_probabilities: bool = False,
    ) -> None:
        """
        Args:
            properties: the preprocessed case's properties (crop box, shapes, transpose).
            label_handling: the plans' labels (region-based or not).
            num_classes: probability channels C.
            keep_probabilities: also keep resampled probabilities, (C, slices, rows,
                columns) float32 of the crop, for :meth:`probabilities`.
        """
        self.properties = properties
        self.regions = label_handling.regions_class_order
        forward = properties.transpose_forward
        crop = properties.shape_after_crop
        self.crop_shape = tuple(crop[axis] for axis in forward)
        values = [0, *self.regions] if self.regions else range(num_classes)
        self.labels = np.zeros(self.crop_shape, dtype=_label_dtype(max(values)))
        self.kept = (
            np.zeros((num_classes, *self.crop_shape), dtype=np.float32)
            if keep_probabilities
            else None
        )

    def add(self, first_slice: int, probabilities: np.ndarray) -> None:
        """Resample and label (C, B, R, C) probabilities of slices ``first_slice``.. +B."""
        in_plane = self.crop_shape[1:]
        group = slice(first_slice, first_slice + probabilities.shape[1])
        if self.kept is not None:
            self.kept[:, group] = resample_in_plane(probabilities, in_plane, 1)
        if self.regions is None:
            self.labels[group] = resample_argmax_in_plane(probabilities, in_plane)
            return
        target = self.labels[group]
        for channel, value in enumerate(self.regions, start=1):
            region = resample_in_plane(probabilities[channel], in_plane, 1)
            target[region > REGION_THRESHOLD] = value

    def segmentation(self) -> np.ndarray:
        """The (z, y, x) label volume of the raw image's shape, background outside the crop."""
        full = np.zeros(self._oriented_shape, dtype=self.labels.dtype)
        full[self.properties.crop_box.slices] = self.labels.transpose(self._backward)
        return self.properties.reorientation.undo(full)

    def probabilities(self) -> np.ndarray:
        """(C, z, y, x) float32 probabilities of the raw image's shape.

        Outside the crop, background (channel 0) has probability 1 for softmax outputs and
        every channel 0 for regions.

        Raises:
            RuntimeError: the exporter was made without ``keep_probabilities``.
        """
        if self.kept is None:
            raise RuntimeError("probabilities were not kept; pass keep_probabilities=True")
        full = np.zeros((len(self.kept), *self._oriented_shape), dtype=np.float32)
        if self.regions is None:
            full[0] = 1
        inside = (slice(None), *self.properties.crop_box.slices)
        full[inside] = self.kept.transpose(0, *(1 + a for a in self._backward))
        return self.properties.reorientation.undo(full)

    @property
    def _oriented_shape(self) -> tuple[int, int, int]:
        """(z, y, x) shape of the raw image reoriented to the plans' orientation."""
        return self.properties.reorientation.shape(self.properties.original_shape)

    @property
    def _backward(self) -> tuple[int, int, int]:
        forward = self.properties.transpose_forward
        return tuple(sorted(range(3), key=forward.__getitem__))


def _label_dtype(largest: int) -> type:
    return np.uint8 if largest <= 255 else np.int16

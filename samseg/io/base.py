"""The one interface every image reader/writer implements.

A reader returns arrays indexed (channel, z, y, x) plus an :class:`ImageGeometry`; a writer
takes a (z, y, x) label array and the geometry of the image it belongs to, so a label written
back has exactly that image's spacing, origin and direction.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from samseg.errors import SamsegInputError
from samseg.io.atomic import atomic_output
from samseg.io.geometry import ImageGeometry


class ImageReaderWriter(ABC):
    """Reads images and segmentations, writes segmentations, in one file format family.

    Attributes:
        holds_all_channels: whether one file (``CASE_0000``) holds every channel of a case
            (photos: R, G, B in one PNG) instead of one file per channel.
    """

    name: str = ""
    supported_file_endings: tuple[str, ...] = ()
    holds_all_channels: bool = False

    @abstractmethod
    def read_volume(self, path: Path) -> tuple[np.ndarray, ImageGeometry]:
        """Read one single-channel file: a (z, y, x) array and its geometry.

        2D files come back as (1, y, x) with ``geometry.dimension == 2``. A truncated file or
        one holding NaN or infinite voxels is a :class:`SamsegInputError` naming the file.
        """

    @abstractmethod
    def write_volume(self, array: np.ndarray, path: Path, geometry: ImageGeometry) -> None:
        """Write a (z, y, x) array with ``geometry`` to ``path`` (not atomic; see below)."""

    def read_images(self, paths: Sequence[str | os.PathLike]) -> tuple[np.ndarray, ImageGeometry]:
        """Read the channel files of one case into a (c, z, y, x) float32 array.

        All channels must have the same shape and geometry.
        """
        paths = [Path(p) for p in paths]
        if not paths:
            raise SamsegInputError("read_images: expected at least one channel file, found none")
        stacked: np.ndarray | None = None
        for channel, path in enumerate(paths):
            array, channel_geometry = self.read_volume(path)
            if stacked is None:
                geometry = channel_geometry
                stacked = np.empty((len(paths), *array.shape), dtype=np.float32)
            elif array.shape != stacked.shape[1:] or not channel_geometry.matches(geometry):
                raise SamsegInputError(
                    f"{path}: expected the shape {stacked.shape[1:]} and spacing "
                    f"{geometry.spacing} of channel file {paths[0].name}, found {array.shape} "
                    f"and {channel_geometry.spacing}"
                )
            stacked[channel] = array
        return stacked, geometry

    def read_segmentation(self, path: str | os.PathLike) -> tuple[np.ndarray, ImageGeometry]:
        """Read a label file into a (1, z, y, x) integer array (smallest fitting dtype)."""
        path = Path(path)
        array, geometry = self.read_volume(path)
        if np.issubdtype(array.dtype, np.floating):
            if not np.array_equal(array, np.round(array)):
                raise SamsegInputError(
                    f"{path}: expected integer label values, found non-integer values"
                )
            array = array.astype(np.int32)
        return array[None].astype(_label_dtype(array), copy=False), geometry

    def write_image(
        self, image: np.ndarray, path: str | os.PathLike, geometry: ImageGeometry
    ) -> None:
        """Write a (z, y, x) intensity array atomically, keeping its dtype."""
        if image.ndim != 3:
            raise ValueError(f"expected a (z, y, x) image, found shape {image.shape}")
        with atomic_output(path) as temporary:
            self.write_volume(image, temporary, geometry)

    def write_segmentation(
        self, segmentation: np.ndarray, path: str | os.PathLike, geometry: ImageGeometry
    ) -> None:
        """Write a (z, y, x) label array atomically with the geometry of its image."""
        if segmentation.ndim != 3:
            raise ValueError(f"expected a (z, y, x) segmentation, found shape {segmentation.shape}")
        with atomic_output(path) as temporary:
            self.write_volume(segmentation.astype(_label_dtype(segmentation)), temporary, geometry)


def _label_dtype(array: np.ndarray) -> type:
    """Smallest integer dtype holding the labels of ``array`` (uint8, int16 or int32)."""
    if array.size == 0:
        return np.uint8
    low, high = int(array.min()), int(array.max())
    if low >= 0 and high <= 255:
        return np.uint8
    if low >= -32768 and high <= 32767:
        return np.int16
    return np.int32

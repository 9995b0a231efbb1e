"""2D photos (PNG, JPEG, BMP) in nnU-Net's natural-image convention (``NaturalImage2DIO``).

A photo is one slice: it is read as (channel, 1, height, width) with spacing (999, 1, 1)
(z, y, x), as nnU-Net does, so planning gives one 2D configuration whose slice is the photo.
One file holds every channel of a case (``CASE_0000.png`` holds R, G and B); a grayscale photo
is one channel. Label files are single-channel 8-bit images whose values are the label ids;
palette PNGs are read as their palette indices. Only 8-bit files are read: their values are
SAM's 0-255 pixel units already.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import imageio.v3 as iio
import numpy as np

from samseg.errors import SamsegInputError
from samseg.io.atomic import atomic_output
from samseg.io.base import ImageReaderWriter
from samseg.io.geometry import ImageGeometry

PHOTO_SPACING = (999.0, 1.0, 1.0)
"""(z, y, x) spacing of a photo: nnU-Net's marker of a single 2D slice."""
PHOTO_GEOMETRY = ImageGeometry(
    spacing=PHOTO_SPACING,
    origin=(0.0, 0.0, 0.0),
    direction=(1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0),
    dimension=2,
)
LOSSY_ENDINGS = (".jpg", ".jpeg")


class NaturalImage2DIO(ImageReaderWriter):
    """PNG, JPEG and BMP photos through imageio's Pillow plugin; one file per case."""

    name = "NaturalImage2DIO"
    supported_file_endings = (".png", ".bmp", ".jpg", ".jpeg")
    holds_all_channels = True

    def read_images(self, paths: Sequence[str | os.PathLike]) -> tuple[np.ndarray, ImageGeometry]:
        """Read the photos of one case into a (c, 1, height, width) float32 array.

        Each file adds its channels (3 for RGB, 1 for grayscale), in the order given; all
        files must have the same height and width.
        """
        paths = [Path(p) for p in paths]
        if not paths:
            raise SamsegInputError("read_images: expected at least one photo, found none")
        channels = []
        for path in paths:
            pixels = read_photo_pixels(path)
            if channels and pixels.shape[:2] != channels[0].shape:
                raise SamsegInputError(
                    f"{path}: expected the size {channels[0].shape} (height, width) of "
                    f"{paths[0].name}, found {pixels.shape[:2]}"
                )
            channels.extend(pixels.transpose(2, 0, 1) if pixels.ndim == 3 else [pixels])
        return np.stack(channels).astype(np.float32)[:, None], PHOTO_GEOMETRY

    def read_volume(self, path: Path) -> tuple[np.ndarray, ImageGeometry]:
        """Read a single-channel photo (a label map or a grayscale image) as (1, height, width).

        Palette PNGs give their palette indices; an RGB file is an error naming it.
        """
        pixels = read_photo_pixels(Path(path), palette_indices=True)
        if pixels.ndim == 3:
            raise SamsegInputError(
                f"{path}: expected a single-channel image (label ids or grayscale), found "
                "3 channels (RGB); save label maps as single-channel PNGs"
            )
        return pixels[None], PHOTO_GEOMETRY

    def write_volume(self, array: np.ndarray, path: Path, geometry: ImageGeometry) -> None:
        """Write a (1, height, width) array of values 0-255 as an 8-bit single-channel image.

        JPEG would change the values (lossy), so segmentations are never written as JPEG.
        """
        path = Path(path)
        if path.name.lower().endswith(LOSSY_ENDINGS):
            raise SamsegInputError(
                f"{path}: expected a lossless photo format for a segmentation (.png or .bmp), "
                "found JPEG, which would change label values; convert the dataset to PNG "
                "(samseg_convert_image_folder)"
            )
        if array.ndim != 3 or array.shape[0] != 1:
            raise ValueError(f"{path}: expected a (1, height, width) array, found {array.shape}")
        iio.imwrite(path, _as_uint8(array[0], path), plugin="pillow")

    def write_photo(self, image: np.ndarray, path: str | os.PathLike) -> None:
        """Write a (c, 1, height, width) photo (c = 1 or 3, values 0-255) atomically."""
        if image.ndim != 4 or image.shape[0] not in (1, 3) or image.shape[1] != 1:
            raise ValueError(f"expected a (1 or 3, 1, height, width) photo, found {image.shape}")
        pixels = image[0, 0] if image.shape[0] == 1 else image[:, 0].transpose(1, 2, 0)
        with atomic_output(path) as temporary:
            iio.imwrite(temporary, _as_uint8(pixels, Path(path)), plugin="pillow")


def read_photo_pixels(path: Path, *, palette_indices: bool = False) -> np.ndarray:
    """The 8-bit pixels of a photo: (height, width) or (height, width, channels) uint8.

    With ``palette_indices``, a palette PNG gives its indices instead of its colours. An
    RGBA photo whose alpha is fully opaque comes back as RGB; a transparent one is an error.
    Missing, unreadable, non-8-bit and non-2D files are a :class:`SamsegInputError` naming
    the file.
    """
    if not path.is_file():
        raise SamsegInputError(f"{path}: expected a photo file, found no such file")
    try:
        mode = iio.immeta(path, plugin="pillow").get("mode")
        read_mode = "P" if palette_indices and mode == "P" else None
        pixels = np.asarray(iio.imread(path, plugin="pillow", mode=read_mode))
    except Exception as error:  # Pillow raises many types for corrupt files
        reason = " ".join(str(error).split())
        raise SamsegInputError(
            f"{path}: expected a readable PNG, JPEG or BMP photo, found an error: {reason}"
        ) from None
    if pixels.dtype != np.uint8:
        raise SamsegInputError(
            f"{path}: expected an 8-bit photo (values 0-255), found {pixels.dtype} pixels "
            f"(mode {mode})"
        )
    if pixels.ndim not in (2, 3) or (pixels.ndim == 3 and pixels.shape[2] not in (1, 3, 4)):
        raise SamsegInputError(
            f"{path}: expected a 2D grayscale, RGB or RGBA photo, found pixel array shape "
            f"{pixels.shape}"
        )
    if pixels.ndim == 3 and pixels.shape[2] == 1:
        return pixels[:, :, 0]
    if pixels.ndim == 3 and pixels.shape[2] == 4:
        if not (pixels[:, :, 3] == 255).all():
            raise SamsegInputError(
                f"{path}: expected an opaque photo, found transparent pixels (alpha < 255); "
                "save it as RGB"
            )
        return pixels[:, :, :3]
    return pixels


def _as_uint8(pixels: np.ndarray, path: Path) -> np.ndarray:
    """``pixels`` as uint8; values outside 0-255 or non-integer values are an error."""
    if pixels.size and (pixels.min() < 0 or pixels.max() > 255):
        raise SamsegInputError(
            f"{path}: expected values 0-255 for an 8-bit image, found "
            f"{pixels.min()}..{pixels.max()}"
        )
    rounded = np.rint(pixels)
    if not np.array_equal(rounded, pixels):
        raise ValueError(f"{path}: expected integer pixel values, found fractions")
    return rounded.astype(np.uint8)

"""Normalization schemes: map one channel's intensities to SAM's [0, 255] pixel range.

Each scheme is a small strategy class; :data:`NORMALIZATION_SCHEMES` maps the name used in
``samsegPlans.json`` (``ChannelNormalization.scheme``) to the class. The names plans may use
are owned by ``samseg.plans.NORMALIZATION_SCHEME_NAMES``; a new scheme is a subclass registered
here under a name added there.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

import numpy as np

from samseg.errors import SamsegInputError
from samseg.plans import ChannelNormalization

PIXEL_MAX = 255.0


class NormalizationScheme(ABC):
    """Maps intensities of one channel to [0, 255].

    Attributes:
        needs_mask: whether :meth:`__call__` needs the image's non-zero region.
        low, high: the clipping window (units are the scheme's).
    """

    needs_mask: ClassVar[bool] = False

    def __init__(self, *, low: float, high: float) -> None:
        self.low = float(low)
        self.high = float(high)

    @abstractmethod
    def __call__(self, image: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
        """Normalize ``image`` in place and return it.

        Args:
            image: float32 (slice, row, column) intensities of one channel.
            mask: boolean array of the same shape, the non-zero region; used when
                ``needs_mask``.

        Returns:
            ``image``, now in [0, 255].
        """

    def _window_to_pixels(self, image: np.ndarray) -> np.ndarray:
        """Clip ``image`` to [low, high] and map that window linearly onto [0, 255], in place."""
        np.clip(image, self.low, self.high, out=image)
        image -= self.low
        image *= PIXEL_MAX / (self.high - self.low)
        return image


class CTNormalization(NormalizationScheme):
    """CT: clip to the [low, high] HU window, then map it linearly to [0, 255]."""

    def __call__(self, image: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
        return self._window_to_pixels(image)


class ZScoreNormalization(NormalizationScheme):
    """Per-image z-score over the non-zero region, clipped to [low, high] standard deviations.

    Mean and standard deviation come from the voxels inside ``mask`` (nnU-Net's
    ``use_mask_for_norm``); the clipped z-scores are mapped linearly to [0, 255] and voxels
    outside the mask become 0. An image without non-zero voxels becomes all 0.
    """

    needs_mask = True

    def __call__(self, image: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
        if mask is None:
            raise ValueError("ZScoreNormalization needs the non-zero mask, found None")
        if not mask.any():
            image[...] = 0
            return image
        mean = float(np.mean(image, where=mask, dtype=np.float64))
        std = float(np.std(image, where=mask, dtype=np.float64))
        image -= mean
        image /= max(std, 1e-8)
        self._window_to_pixels(image)
        image[~mask] = 0
        return image


class RGBNormalization(NormalizationScheme):
    """8-bit photo channels (R, G, B or grayscale): their 0-255 values are SAM's pixel units,
    so they are kept as they are, without clipping or per-image statistics.

    nnU-Net's ``RGBTo01Normalization`` (channel name ``rgb_to_0_1``) divides the same values
    by 255; samseg's 0-255 store keeps them, and accepts that name as an alias.
    """

    def __call__(self, image: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
        return image


NORMALIZATION_SCHEMES: dict[str, type[NormalizationScheme]] = {
    "CTNormalization": CTNormalization,
    "ZScoreNormalization": ZScoreNormalization,
    "RGBNormalization": RGBNormalization,
    "RGBTo01Normalization": RGBNormalization,
}


def normalization_for(channel: ChannelNormalization) -> NormalizationScheme:
    """The scheme a plans entry names, set up with its window."""
    try:
        scheme = NORMALIZATION_SCHEMES[channel.scheme]
    except KeyError:
        raise SamsegInputError(
            f"plans normalization: expected a scheme in {sorted(NORMALIZATION_SCHEMES)}, "
            f"found {channel.scheme!r}"
        ) from None
    return scheme(low=channel.low, high=channel.high)

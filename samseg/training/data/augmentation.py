"""Data augmentation: nnU-Net's 2D recipe with batchgenerators, on 0-255 SAM inputs.

Batches are ``{"data": (B, 3, P, P) float32 in 0-255, "seg": (B, 1, P, P) float32 label
values}``. The transforms, in nnU-Net's order: rotation and scaling (``SpatialTransform``,
which also cuts the centred S x S output from the P x P source), Gaussian noise, Gaussian
blur, multiplicative brightness, contrast, simulated low resolution, gamma (inverted, then
plain), clipping to [0, 255] (SAM's pixel normalization follows), mirroring.

SAM's three channels are one image's neighbouring slices (or its modalities repeated), so
every intensity transform draws one parameter per sample for all channels, where nnU-Net draws
one per channel of independent modalities.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace

from batchgenerators.transforms.abstract_transforms import Compose
from batchgenerators.transforms.color_transforms import (
    BrightnessMultiplicativeTransform,
    ClipValueRange,
    ContrastAugmentationTransform,
    GammaTransform,
)
from batchgenerators.transforms.noise_transforms import (
    GaussianBlurTransform,
    GaussianNoiseTransform,
)
from batchgenerators.transforms.resample_transforms import SimulateLowResolutionTransform
from batchgenerators.transforms.spatial_transforms import MirrorTransform, SpatialTransform

PIXEL_RANGE = (0.0, 255.0)


@dataclass(frozen=True, kw_only=True)
class AugmentationSettings:
    """Augmentation parameters; a trainer overrides any of them (``dataclasses.replace``).

    Defaults are nnU-Net's 2D defaults. Probabilities are per sample; ranges are
    (low, high) sampled uniformly.

    Attributes:
        rotation_degrees: in-plane rotation angle range, degrees.
        rotation_probability: chance of a rotation.
        scale_range: zoom range; batchgenerators multiplies the sampling grid by it, so values
            below 1 magnify.
        scale_probability: chance of a zoom.
        mirror_axes: spatial axes (0: rows, 1: columns) each flipped with chance 1/2.
        gamma_range: gamma exponent range (intensities rescaled to [0, 1] around it, mean and
            standard deviation kept).
        gamma_probability: chance of a gamma change.
        inverted_gamma_probability: chance of a gamma change of the inverted image.
        brightness_range: intensity multiplier range.
        brightness_probability: chance of a brightness change.
        contrast_range: contrast factor range (around the mean, range kept).
        contrast_probability: chance of a contrast change.
        noise_std_range: standard deviation range of additive Gaussian noise, 0-255 units;
            nnU-Net's (0, 0.1) standard deviations of z-scored data, at the 40-50 units one
            foreground standard deviation spans after samseg's normalization.
        noise_probability: chance of noise.
        blur_sigma_range: Gaussian blur sigma range, pixels of the S x S input.
        blur_probability: chance of a blur.
        low_resolution_zoom_range: down-sampling factor range of the simulated low resolution.
        low_resolution_probability: chance of simulated low resolution.
        interpolation_order_data: spline order of image rotation/zoom (nnU-Net: 3).
        interpolation_order_label: order of label rotation/zoom; above 0, each label's
            indicator is interpolated and the arg-max taken (nnU-Net: 1).
    """

    rotation_degrees: tuple[float, float] = (-180.0, 180.0)
    rotation_probability: float = 0.2
    scale_range: tuple[float, float] = (0.7, 1.4)
    scale_probability: float = 0.2
    mirror_axes: tuple[int, ...] = (0, 1)
    gamma_range: tuple[float, float] = (0.7, 1.5)
    gamma_probability: float = 0.3
    inverted_gamma_probability: float = 0.1
    brightness_range: tuple[float, float] = (0.75, 1.25)
    brightness_probability: float = 0.15
    contrast_range: tuple[float, float] = (0.75, 1.25)
    contrast_probability: float = 0.15
    noise_std_range: tuple[float, float] = (0.0, 5.0)
    noise_probability: float = 0.1
    blur_sigma_range: tuple[float, float] = (0.5, 1.0)
    blur_probability: float = 0.2
    low_resolution_zoom_range: tuple[float, float] = (0.5, 1.0)
    low_resolution_probability: float = 0.25
    interpolation_order_data: int = 3
    interpolation_order_label: int = 1

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if field.name.endswith("probability") and not 0 <= value <= 1:
                raise ValueError(f"expected {field.name} in [0, 1], found {value}")
            if field.name.endswith("range") and not (len(value) == 2 and value[0] <= value[1]):
                raise ValueError(f"expected {field.name} as (low, high), found {value}")
        if not set(self.mirror_axes) <= {0, 1}:
            raise ValueError(f"expected mirror_axes within (0, 1), found {self.mirror_axes}")
        if self.noise_std_range[0] < 0 or min(self.scale_range) <= 0:
            raise ValueError(
                "expected noise_std_range >= 0 and scale_range > 0, found "
                f"{self.noise_std_range} and {self.scale_range}"
            )

    @classmethod
    def none(cls) -> AugmentationSettings:
        """No augmentation at all (validation, overfitting tests)."""
        probabilities = {f.name: 0.0 for f in fields(cls) if f.name.endswith("probability")}
        return replace(cls(), mirror_axes=(), **probabilities)

    @property
    def spatial(self) -> bool:
        """Whether rotation or zoom can happen."""
        return self.rotation_probability > 0 or self.scale_probability > 0


def source_size(settings: AugmentationSettings, patch_size: int) -> int:
    """Side of the source region a sample is cut from so that its rotated, zoomed S x S view
    stays within it (nnU-Net's ``get_patch_size``); ``patch_size`` without spatial
    augmentation. Same parity as ``patch_size``, so both share a centre pixel."""
    extent = float(patch_size)
    if settings.rotation_probability > 0:
        # a square turned by a covers cos(a) + sin(a) of its side, most (sqrt 2) at 45 degrees
        angle = math.radians(min(max(abs(a) for a in settings.rotation_degrees), 45.0))
        extent *= math.cos(angle) + math.sin(angle)
    if settings.scale_probability > 0:
        extent *= max(settings.scale_range[1], 1.0)
    return patch_size + 2 * math.ceil((extent - patch_size) / 2 - 1e-9)


def build_transforms(settings: AugmentationSettings, *, patch_size: int) -> Compose:
    """The batchgenerators pipeline of ``settings`` for S x S = ``patch_size`` outputs.

    Transforms whose probability is 0 are left out. The input batch's samples must be
    ``source_size(settings, patch_size)`` square; the output's are ``patch_size`` square.
    """
    transforms = []
    if settings.spatial:
        transforms.append(
            SpatialTransform(
                (patch_size, patch_size),
                patch_center_dist_from_border=None,
                do_elastic_deform=False,
                do_rotation=settings.rotation_probability > 0,
                angle_x=tuple(math.radians(a) for a in settings.rotation_degrees),
                do_scale=settings.scale_probability > 0,
                scale=settings.scale_range,
                border_mode_data="constant",
                border_cval_data=0,
                order_data=settings.interpolation_order_data,
                border_mode_seg="constant",
                border_cval_seg=0,
                order_seg=settings.interpolation_order_label,
                random_crop=False,
                p_el_per_sample=0,
                p_scale_per_sample=settings.scale_probability,
                p_rot_per_sample=settings.rotation_probability,
            )
        )
    if settings.noise_probability > 0:
        # batchgenerators' "noise_variance" is the standard deviation it passes to np.random.
        transforms.append(
            GaussianNoiseTransform(
                noise_variance=settings.noise_std_range, p_per_sample=settings.noise_probability
            )
        )
    if settings.blur_probability > 0:
        transforms.append(
            GaussianBlurTransform(
                settings.blur_sigma_range,
                different_sigma_per_channel=False,
                p_per_sample=settings.blur_probability,
            )
        )
    if settings.brightness_probability > 0:
        transforms.append(
            BrightnessMultiplicativeTransform(
                settings.brightness_range,
                per_channel=False,
                p_per_sample=settings.brightness_probability,
            )
        )
    if settings.contrast_probability > 0:
        transforms.append(
            ContrastAugmentationTransform(
                settings.contrast_range,
                per_channel=False,
                p_per_sample=settings.contrast_probability,
            )
        )
    if settings.low_resolution_probability > 0:
        transforms.append(
            SimulateLowResolutionTransform(
                zoom_range=settings.low_resolution_zoom_range,
                per_channel=False,
                order_downsample=0,
                order_upsample=3,
                p_per_sample=settings.low_resolution_probability,
            )
        )
    for inverted, probability in (
        (True, settings.inverted_gamma_probability),
        (False, settings.gamma_probability),
    ):
        if probability > 0:
            transforms.append(
                GammaTransform(
                    settings.gamma_range,
                    invert_image=inverted,
                    per_channel=False,
                    retain_stats=True,
                    p_per_sample=probability,
                )
            )
    transforms.append(ClipValueRange(*PIXEL_RANGE))
    if settings.mirror_axes:
        transforms.append(MirrorTransform(settings.mirror_axes))
    return Compose(transforms)

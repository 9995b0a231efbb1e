"""Synthetic abdominal CT-like volumes with organ labels, for demos, tests and smoke runs.

Each case is an axial stack through a simplified abdomen: an elliptic body (soft tissue with a
subcutaneous fat rim) in air, a bright spine with discs and a spinal canal, a few bowel gas
pockets, and four labelled organs placed as in real anatomy: a large liver right-anterior, the
spleen left-posterior, two kidneys (one label) posterior either side of the spine with bright
cortex and darker medulla, and the round, bright aorta just anterior to the spine. Organs are
ellipsoids deformed by smooth low-frequency noise, with distinct mean HU and texture.

Shapes, positions, sizes, in-plane spacing (2.5-3.2 mm) and slice count (16-32 slices of
5 mm) vary per case; everything is drawn from ``numpy.random.default_rng([seed, split,
index])``, so a case depends only on its seed, split and index.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
from scipy.ndimage import gaussian_filter

from samseg.io import ImageGeometry

DEMO_LABELS: Mapping[str, int] = MappingProxyType(
    {"background": 0, "liver": 1, "spleen": 2, "kidney": 3, "aorta": 4}
)
SLICE_THICKNESS_MM = 5.0
RAS_DIRECTION = (-1.0, 0.0, 0.0, 0.0, -1.0, 0.0, 0.0, 0.0, 1.0)

_Intensity = Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class DemoCase:
    """One synthetic case.

    Attributes:
        image: (z, y, x) int16 intensities in HU.
        labels: (z, y, x) uint8 label map with the values of :data:`DEMO_LABELS`.
        geometry: spacing (z, y, x) in mm, LPS origin (x, y, z) in mm, RAS-oriented direction.
    """

    image: np.ndarray
    labels: np.ndarray
    geometry: ImageGeometry


@dataclass(frozen=True)
class _Grid:
    """Patient coordinates in mm of the voxel centres, relative to the body centre.

    ``x`` (1, 1, nx) grows to the patient's left, ``y`` (1, ny, 1) to posterior and ``z``
    (nz, 1, 1) to superior (LPS), so shapes are defined in mm whatever the voxel size.
    """

    x: np.ndarray
    y: np.ndarray
    z: np.ndarray

    @property
    def shape(self) -> tuple[int, int, int]:
        return (self.z.shape[0], self.y.shape[1], self.x.shape[2])


def synthesize_demo_case(seed: int, index: int, *, test: bool = False) -> DemoCase:
    """Synthesize case ``index`` of the training (or, with ``test``, the test) split.

    ``seed`` and ``index`` must be non-negative. The same arguments give byte-identical arrays.
    """
    rng = np.random.default_rng([seed, int(test), index])
    grid, geometry = _draw_grid(rng)
    a = rng.uniform(0.37, 0.43) * grid.shape[2] * geometry.spacing[2]
    b = min(a * rng.uniform(0.68, 0.8), 0.42 * grid.shape[1] * geometry.spacing[1])
    scale = a / 150.0
    fine = _unit_noise(rng, grid.shape, sigma=(0.5, 0.8, 0.8))
    coarse = _unit_noise(rng, grid.shape, sigma=(1.0, 2.5, 2.5))
    enhancement = rng.uniform(0.9, 1.1)

    image = np.full(grid.shape, -1000.0, dtype=np.float32)
    labels = np.zeros(grid.shape, dtype=np.uint8)
    body_wobble = 1.0 + 0.03 * np.sin(2 * np.pi * grid.z / 180.0 + rng.uniform(0, 2 * np.pi))
    body = (grid.x / (a * body_wobble)) ** 2 + (grid.y / (b * body_wobble)) ** 2 <= 1.0
    fat = rng.uniform(8.0, 20.0)
    inner = (grid.x / (a - fat)) ** 2 + (grid.y / (b - fat)) ** 2 <= 1.0
    body, inner = np.broadcast_to(body, grid.shape), np.broadcast_to(inner, grid.shape)
    image[body] = (-100.0 + 8.0 * fine + 6.0 * coarse)[body]
    image[inner] = (40.0 + 6.0 * fine + 8.0 * coarse)[inner]

    for _ in range(rng.integers(2, 5)):
        centre = (rng.uniform(-0.4, 0.4) * a, rng.uniform(-0.75, -0.45) * b, rng.uniform(-40, 40))
        radii = rng.uniform(8.0, 16.0, size=3) * scale
        gas = (_ellipsoid(grid, centre, radii, 0.0, rng, wobble=0.2) <= 1.0) & inner
        image[gas] = (-750.0 + 40.0 * fine)[gas]

    spine_y = 0.45 * b
    spine_radius = 16.0 * scale
    organs = _organ_shapes(grid, rng, a=a, b=b, scale=scale, spine=(spine_y, spine_radius))
    for label, (shape, intensity) in organs.items():
        mask = shape & inner
        image[mask] = (enhancement * intensity(fine, coarse))[mask]
        labels[mask] = label
    _paint_spine(image, labels, grid, rng, spine_y=spine_y, radius=spine_radius, fine=fine)

    image = gaussian_filter(image, sigma=(0.3, 0.6, 0.6))
    image += rng.normal(0.0, rng.uniform(8.0, 14.0), size=grid.shape).astype(np.float32)
    image = np.clip(np.round(image), -1024, 3071).astype(np.int16)
    return DemoCase(image=image, labels=labels, geometry=geometry)


def _draw_grid(rng: np.random.Generator) -> tuple[_Grid, ImageGeometry]:
    """Voxel counts, spacing, world placement and patient coordinates of one case."""
    spacing = round(float(rng.uniform(2.5, 3.2)), 3)
    nx = int(np.clip(round(rng.uniform(290.0, 380.0) / spacing), 96, 128))
    ny = int(np.clip(nx - rng.integers(0, 17), 96, 128))
    nz = int(rng.integers(16, 33))
    spacing_xyz = np.array([spacing, spacing, SLICE_THICKNESS_MM])
    sizes_xyz = np.array([nx, ny, nz])
    centre_world = np.array([rng.uniform(-30, 30), rng.uniform(-60, 0), rng.uniform(-500, -300)])
    direction = np.asarray(RAS_DIRECTION).reshape(3, 3)
    origin = centre_world - direction @ (spacing_xyz * (sizes_xyz - 1) / 2)
    fov = spacing_xyz * sizes_xyz
    body_centre = centre_world + np.array(
        [rng.uniform(-0.05, 0.05) * fov[0], rng.uniform(-0.05, 0.05) * fov[1], rng.uniform(-15, 15)]
    )
    axes = [
        origin[i] + direction[i, i] * spacing_xyz[i] * np.arange(sizes_xyz[i]) - body_centre[i]
        for i in range(3)
    ]
    grid = _Grid(
        x=axes[0].reshape(1, 1, nx).astype(np.float32),
        y=axes[1].reshape(1, ny, 1).astype(np.float32),
        z=axes[2].reshape(nz, 1, 1).astype(np.float32),
    )
    geometry = ImageGeometry(
        spacing=(SLICE_THICKNESS_MM, spacing, spacing),
        origin=tuple(float(round(o, 3)) for o in origin),
        direction=RAS_DIRECTION,
    )
    return grid, geometry


def _unit_noise(
    rng: np.random.Generator, shape: tuple[int, int, int], sigma: tuple[float, ...]
) -> np.ndarray:
    """(z, y, x) float32 Gaussian-smoothed noise with unit standard deviation."""
    noise = gaussian_filter(rng.standard_normal(shape).astype(np.float32), sigma=sigma)
    return noise / max(float(noise.std()), 1e-6)


def _ellipsoid(
    grid: _Grid,
    centre: tuple[float, float, float],
    radii: np.ndarray | tuple[float, float, float],
    angle: float,
    rng: np.random.Generator,
    *,
    wobble: float,
) -> np.ndarray:
    """(z, y, x) normalized radius of an ellipsoid rotated by ``angle`` (radians) about z and
    deformed by smooth noise of relative amplitude ``wobble``; the shape is ``<= 1``.

    ``centre`` and ``radii`` are (x, y, z) in mm, patient coordinates of :class:`_Grid`.
    """
    dx, dy, dz = grid.x - centre[0], grid.y - centre[1], grid.z - centre[2]
    u = (np.cos(angle) * dx + np.sin(angle) * dy) / radii[0]
    v = (-np.sin(angle) * dx + np.cos(angle) * dy) / radii[1]
    w = dz / radii[2]
    deformation = 0.0
    for _ in range(3):
        d = rng.normal(size=3)
        d /= np.linalg.norm(d)
        frequency, phase = rng.uniform(1.5, 3.5), rng.uniform(0, 2 * np.pi)
        deformation = deformation + np.sin(frequency * (d[0] * u + d[1] * v + d[2] * w) + phase)
    return (u * u + v * v + w * w) * (1.0 + wobble * deformation / 3.0)


def _organ_shapes(
    grid: _Grid,
    rng: np.random.Generator,
    *,
    a: float,
    b: float,
    scale: float,
    spine: tuple[float, float],
) -> dict[int, tuple[np.ndarray, _Intensity]]:
    """Label value -> ((z, y, x) bool mask, HU as a function of the (fine, coarse) noise).

    Masks are in painting order; a later organ overrides an earlier one where they overlap.
    ``a`` and ``b`` are the body's semi-axes (left-right, anterior-posterior) in mm.
    """
    spine_y, spine_radius = spine

    def jitter(value: float, amount: float = 0.08) -> float:
        return value * rng.uniform(1.0 - amount, 1.0 + amount)

    liver_mean, spleen_mean = rng.uniform(95, 112), rng.uniform(125, 140)
    liver = (
        _ellipsoid(
            grid,
            (jitter(-0.42 * a), jitter(-0.05 * b, 0.5), jitter(20.0, 0.5)),
            np.array([jitter(70.0), jitter(75.0), jitter(80.0)]) * scale,
            rng.uniform(-0.2, 0.2),
            rng,
            wobble=0.25,
        )
        <= 1.0
    ) | (
        _ellipsoid(
            grid,
            (jitter(-0.05 * a, 0.5), jitter(-0.4 * b), jitter(30.0, 0.5)),
            np.array([jitter(50.0), jitter(30.0), jitter(45.0)]) * scale,
            rng.uniform(-0.3, 0.3),
            rng,
            wobble=0.25,
        )
        <= 1.0
    )
    spleen = (
        _ellipsoid(
            grid,
            (jitter(0.55 * a), jitter(0.25 * b), jitter(12.0, 0.5)),
            np.array([jitter(28.0), jitter(50.0), jitter(45.0)]) * scale,
            rng.uniform(0.3, 0.7),
            rng,
            wobble=0.2,
        )
        <= 1.0
    )
    kidney_radii = np.array([25.0, 30.0, 45.0]) * scale
    kidney_field = np.minimum(
        _ellipsoid(
            grid,
            (-(spine_radius + 40.0 * scale), spine_y - 2.0 * scale, jitter(-15.0, 0.4)),
            kidney_radii * rng.uniform(0.92, 1.08, size=3),
            rng.uniform(-0.6, -0.2),
            rng,
            wobble=0.12,
        ),
        _ellipsoid(
            grid,
            (spine_radius + 40.0 * scale, spine_y, jitter(-5.0, 0.6)),
            kidney_radii * rng.uniform(0.92, 1.08, size=3),
            rng.uniform(0.2, 0.6),
            rng,
            wobble=0.12,
        ),
    )
    kidney_medulla = kidney_field <= 0.4
    aorta_radius = rng.uniform(12.0, 15.0)
    aorta_x = 0.08 * a + 3.0 * np.sin(grid.z / 60.0)
    aorta_y = spine_y - spine_radius - aorta_radius - 3.0
    aorta = (grid.x - aorta_x) ** 2 + (grid.y - aorta_y) ** 2 <= aorta_radius**2
    aorta_mean = rng.uniform(215, 250)
    return {
        1: (liver, lambda f, c: liver_mean + 5.0 * f + 6.0 * c),
        2: (spleen, lambda f, c: spleen_mean + 5.0 * f + 3.0 * c),
        3: (
            kidney_field <= 1.0,
            lambda f, c: np.where(kidney_medulla, 150.0, 195.0) + 6.0 * f,
        ),
        4: (aorta, lambda f, c: aorta_mean + 3.0 * f),
    }


def _paint_spine(
    image: np.ndarray,
    labels: np.ndarray,
    grid: _Grid,
    rng: np.random.Generator,
    *,
    spine_y: float,
    radius: float,
    fine: np.ndarray,
) -> None:
    """Paint vertebrae (bright bone, darker discs, posterior arch) and the spinal canal.

    Bone is unlabelled: it overrides any organ label it covers (in place, on (z, y, x) arrays).
    """
    body = np.broadcast_to(grid.x**2 + (grid.y - spine_y) ** 2 <= radius**2, grid.shape)
    core = np.broadcast_to(grid.x**2 + (grid.y - spine_y) ** 2 <= (0.75 * radius) ** 2, grid.shape)
    canal_y, canal_radius = spine_y + 1.45 * radius, 0.5 * radius
    canal_distance = grid.x**2 + (grid.y - canal_y) ** 2
    arch = np.broadcast_to(canal_distance <= (canal_radius + 0.35 * radius) ** 2, grid.shape)
    canal = np.broadcast_to(canal_distance <= canal_radius**2, grid.shape)
    process = np.broadcast_to(
        (grid.x / (0.25 * radius)) ** 2 + ((grid.y - canal_y - 1.3 * radius) / (0.8 * radius)) ** 2
        <= 1.0,
        grid.shape,
    )
    period, phase = rng.uniform(28.0, 34.0), rng.uniform(0.0, 1.0)
    disc = np.broadcast_to(((grid.z / period + phase) % 1.0) < 0.18, grid.shape)
    bone = body | arch | process
    image[bone] = (700.0 + 30.0 * fine)[bone]
    trabecular = core & ~disc
    image[trabecular] = (420.0 + 40.0 * fine)[trabecular]
    image[body & disc] = (90.0 + 8.0 * fine)[body & disc]
    image[canal] = (20.0 + 5.0 * fine)[canal]
    labels[bone | canal] = 0

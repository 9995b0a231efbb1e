"""dataset.json ``labels``: classes, regions and the ignore label, as nnU-Net has them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from samseg.errors import SamsegInputError


@dataclass(frozen=True)
class LabelScheme:
    """Typed view of dataset.json ``labels`` (and ``regions_class_order``).

    Attributes:
        names: class name -> label value, or a tuple of values for a region (nnU-Net's
            region-based training, e.g. ``"whole tumor": (1, 2, 3)``).
        regions_class_order: for region-based labels, the label value each region is written
            as when converting predictions back to a label map (nnU-Net's semantics).
        ignore_label: value of the ``ignore`` class (excluded from loss and metrics), if any.
    """

    names: dict[str, int | tuple[int, ...]]
    regions_class_order: tuple[int, ...] | None = None
    ignore_label: int | None = None

    @classmethod
    def from_json(cls, labels: object, regions_class_order: object, source: Path) -> LabelScheme:
        """Parse and validate; errors name ``source`` (the dataset.json)."""
        if not isinstance(labels, dict) or not labels:
            raise SamsegInputError(
                f"{source}: expected 'labels' to be a non-empty mapping of name to value, "
                f"found {labels!r}"
            )
        names: dict[str, int | tuple[int, ...]] = {}
        for name, value in labels.items():
            if isinstance(value, bool) or not isinstance(value, int | list | tuple):
                raise SamsegInputError(
                    f"{source}: expected label {name!r} to be an integer or a list of integers, "
                    f"found {value!r}"
                )
            names[name] = int(value) if isinstance(value, int) else tuple(int(v) for v in value)
        if names.get("background") != 0:
            raise SamsegInputError(
                f"{source}: expected a 'background' label with value 0, "
                f"found {labels.get('background')!r}"
            )
        ignore = names.pop("ignore", None)
        if ignore is not None and not isinstance(ignore, int):
            raise SamsegInputError(
                f"{source}: expected the 'ignore' label to be one integer, found {ignore!r}"
            )
        has_regions = any(isinstance(v, tuple) for v in names.values())
        order = None
        if has_regions:
            if not isinstance(regions_class_order, list):
                raise SamsegInputError(
                    f"{source}: region-based labels need 'regions_class_order' (a list with one "
                    f"value per non-background region), found {regions_class_order!r}"
                )
            order = tuple(int(v) for v in regions_class_order)
            if len(order) != len(names) - 1:
                raise SamsegInputError(
                    f"{source}: expected {len(names) - 1} entries in 'regions_class_order', "
                    f"found {len(order)}"
                )
        scheme = cls(names=names, regions_class_order=order, ignore_label=ignore)
        values = scheme.label_values
        gaps = [int(v) for v in np.setdiff1d(np.arange(values[-1] + 1), values)]
        if gaps:
            raise SamsegInputError(
                f"{source}: expected consecutive label values 0..{values[-1]}, "
                f"found {values} (missing {gaps})"
            )
        if ignore is not None and ignore != values[-1]:
            raise SamsegInputError(
                f"{source}: expected the 'ignore' label to have the highest value, "
                f"found ignore={ignore} below {max(v for v in values if v != ignore)}"
            )
        return scheme

    @property
    def has_regions(self) -> bool:
        return self.regions_class_order is not None

    @property
    def label_values(self) -> list[int]:
        """Every value a label file may contain (sorted, background and ignore included)."""
        values: set[int] = {self.ignore_label} if self.ignore_label is not None else set()
        for value in self.names.values():
            values.update(value if isinstance(value, tuple) else (value,))
        return sorted(values)

    @property
    def foreground_values(self) -> list[int]:
        """Label values of the foreground classes (no background, no ignore)."""
        return [v for v in self.label_values if v != 0 and v != self.ignore_label]

    @property
    def class_names(self) -> list[str]:
        """Names of the output classes in output-channel order, background first."""
        return list(self.names)

    @property
    def num_classes(self) -> int:
        """Number of network output channels (background included; regions count once each)."""
        return len(self.names)

    def to_json(self) -> dict[str, int | list[int]]:
        """The ``labels`` mapping as dataset.json writes it."""
        out: dict[str, int | list[int]] = {
            name: list(v) if isinstance(v, tuple) else v for name, v in self.names.items()
        }
        if self.ignore_label is not None:
            out["ignore"] = self.ignore_label
        return out

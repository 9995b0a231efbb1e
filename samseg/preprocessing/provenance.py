"""What a preprocessed case was made from, to tell whether it is still up to date.

A case is up to date when its raw files still have the size and modification time recorded
when it was made, and the plans fields that shape the data hash to the recorded value.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from samseg.plans import Plans

FORMAT_VERSION = 1


@dataclass(frozen=True)
class FileStamp:
    """Name, size (bytes) and modification time (ns) of one raw file.

    For a folder (a DICOM series), ``size`` sums the sizes of the files in it and ``mtime_ns``
    is the newest modification time among them and the folder itself.
    """

    name: str
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class Provenance:
    """The raw files a case was made from and the hash of the plans fields that shaped it."""

    files: tuple[FileStamp, ...]
    plans_hash: str

    def to_json(self) -> dict:
        return {"files": [asdict(f) for f in self.files], "plans_hash": self.plans_hash}

    @classmethod
    def from_json(cls, data: dict) -> Provenance:
        return cls(
            files=tuple(
                FileStamp(str(f["name"]), int(f["size"]), int(f["mtime_ns"])) for f in data["files"]
            ),
            plans_hash=str(data["plans_hash"]),
        )


def case_provenance(
    image_paths: Sequence[str | os.PathLike], label_path: str | os.PathLike | None, plans: Plans
) -> Provenance:
    """The provenance a case made now from these raw files and plans records."""
    raw_files = [*image_paths, *([] if label_path is None else [label_path])]
    return Provenance(files=stamp_files(raw_files), plans_hash=plans_hash(plans))


def stamp_files(paths: Sequence[str | os.PathLike]) -> tuple[FileStamp, ...]:
    """Stamps of raw files (or DICOM series folders), in the order given."""
    stamps = []
    for path in map(Path, paths):
        status = path.stat()
        size, mtime_ns = status.st_size, status.st_mtime_ns
        if path.is_dir():
            entries = [e.stat() for e in os.scandir(path) if e.is_file()]
            size = sum(e.st_size for e in entries)
            mtime_ns = max([mtime_ns, *(e.st_mtime_ns for e in entries)])
        stamps.append(FileStamp(path.name, size, mtime_ns))
    return tuple(stamps)


def plans_hash(plans: Plans) -> str:
    """SHA-256 of the plans fields that determine preprocessed data.

    Those are the reader, the orientation (only when the plans record one, so data made with
    older plans stay up to date), the axis order, the in-plane target spacing (the slice-axis
    entry of ``target_spacing`` is informative only), the normalization and the label
    handling, plus :data:`FORMAT_VERSION`, which changes whenever the stored format does.
    """
    fields = {
        "format_version": FORMAT_VERSION,
        "image_reader_writer": plans.image_reader_writer,
        "transpose_forward": list(plans.transpose_forward),
        "in_plane_target_spacing": list(plans.in_plane_target_spacing),
        "normalization": [asdict(n) for n in plans.normalization],
        "label_handling": asdict(plans.label_handling),
    }
    if plans.orientation is not None:
        fields["orientation"] = plans.orientation
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()

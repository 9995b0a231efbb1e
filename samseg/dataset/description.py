"""dataset.json as a typed, validated model, and the cases a raw dataset folder holds."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from samseg.dataset.labels import LabelScheme
from samseg.errors import SamsegInputError
from samseg.io import ImageReaderWriter, read_json, reader_writer_by_name, reader_writer_for


@dataclass(frozen=True)
class CaseFiles:
    """The files of one case: one image per channel (in channel order) and an optional label."""

    identifier: str
    images: tuple[Path, ...]
    label: Path | None


@dataclass(frozen=True)
class DatasetDescription:
    """The content of an nnU-Net v2 ``dataset.json``.

    Attributes:
        channel_names: channel index -> modality name ("CT", "T2", ...), in channel order.
        labels: the label scheme.
        file_ending: ending of every image and label file (".nii.gz").
        num_training: ``numTraining``, the number of training cases.
        reader_writer: name of the image reader/writer to use, when dataset.json overrides it.
        extra: every other key, kept so that a copy written beside results is complete.
    """

    channel_names: tuple[str, ...]
    labels: LabelScheme
    file_ending: str
    num_training: int
    reader_writer: str | None = None
    extra: dict = field(default_factory=dict, compare=False)

    @classmethod
    def load(cls, path: str | os.PathLike) -> DatasetDescription:
        """Read and validate a dataset.json; every error names the file."""
        path = Path(path)
        data = read_json(path)
        if not isinstance(data, dict):
            raise SamsegInputError(f"{path}: expected a JSON object, found {type(data).__name__}")
        missing = [
            k for k in ("channel_names", "labels", "numTraining", "file_ending") if k not in data
        ]
        if "channel_names" in missing and "modality" in data:
            missing.remove("channel_names")
        if missing:
            raise SamsegInputError(
                f"{path}: expected the keys channel_names, labels, numTraining and file_ending, "
                f"found no {', '.join(missing)}"
            )
        channels = data.get("channel_names", data.get("modality"))
        if not isinstance(channels, dict) or not channels:
            raise SamsegInputError(
                f"{path}: expected 'channel_names' to map channel indices to names, "
                f"found {channels!r}"
            )
        try:
            indices = sorted(int(k) for k in channels)
        except ValueError:
            raise SamsegInputError(
                f"{path}: expected integer channel indices in 'channel_names', "
                f"found {list(channels)}"
            ) from None
        if indices != list(range(len(indices))):
            raise SamsegInputError(
                f"{path}: expected channel indices 0..{len(indices) - 1}, found {indices}"
            )
        file_ending = data["file_ending"]
        if not isinstance(file_ending, str) or not file_ending.startswith("."):
            raise SamsegInputError(
                f"{path}: expected 'file_ending' like '.nii.gz', found {file_ending!r}"
            )
        num_training = data["numTraining"]
        if isinstance(num_training, bool) or not isinstance(num_training, int) or num_training < 0:
            raise SamsegInputError(
                f"{path}: expected 'numTraining' to be a non-negative integer, "
                f"found {num_training!r}"
            )
        known = {
            "channel_names",
            "modality",
            "labels",
            "numTraining",
            "file_ending",
            "overwrite_image_reader_writer",
            "regions_class_order",
        }
        return cls(
            channel_names=tuple(
                str(channels[str(i)] if str(i) in channels else channels[i]) for i in indices
            ),
            labels=LabelScheme.from_json(data["labels"], data.get("regions_class_order"), path),
            file_ending=file_ending,
            num_training=num_training,
            reader_writer=data.get("overwrite_image_reader_writer"),
            extra={k: v for k, v in data.items() if k not in known},
        )

    def to_json(self) -> dict:
        """The dataset.json content (round-trips through :meth:`load`)."""
        data = {
            "channel_names": {str(i): name for i, name in enumerate(self.channel_names)},
            "labels": self.labels.to_json(),
            "numTraining": self.num_training,
            "file_ending": self.file_ending,
        }
        if self.labels.regions_class_order is not None:
            data["regions_class_order"] = list(self.labels.regions_class_order)
        if self.reader_writer is not None:
            data["overwrite_image_reader_writer"] = self.reader_writer
        return {**data, **self.extra}

    @property
    def num_channels(self) -> int:
        return len(self.channel_names)

    @property
    def num_channel_files(self) -> int:
        """Image files per case: one per channel, or one holding all (photos: ``CASE_0000.png``
        holds R, G and B)."""
        return 1 if self.image_reader_writer().holds_all_channels else self.num_channels

    def image_reader_writer(self) -> ImageReaderWriter:
        """The reader/writer for this dataset's files."""
        if self.reader_writer is not None:
            return reader_writer_by_name(self.reader_writer)
        return reader_writer_for(self.file_ending)

    def list_cases(self, images_folder: Path, labels_folder: Path | None) -> list[CaseFiles]:
        """Cases in ``images_folder`` (``CASE_XXXX<ending>`` files), sorted by identifier.

        With ``labels_folder``, every case must have all its channel files and a label, and no
        label may lack an image; without it, labels are not looked for.
        """
        if not images_folder.is_dir():
            raise SamsegInputError(f"{images_folder}: expected a folder of images, found none")
        pattern = re.compile(rf"^(.+)_(\d{{4}}){re.escape(self.file_ending)}$")
        channels_found: dict[str, set[int]] = {}
        for name in os.listdir(images_folder):
            match = pattern.match(name)
            if match:
                channels_found.setdefault(match.group(1), set()).add(int(match.group(2)))
        cases = []
        for identifier in sorted(channels_found):
            missing = sorted(set(range(self.num_channel_files)) - channels_found[identifier])
            if missing:
                expected = images_folder / f"{identifier}_{missing[0]:04d}{self.file_ending}"
                raise SamsegInputError(
                    f"{expected}: expected channel {missing[0]} ({self.channel_names[missing[0]]}) "
                    f"of case {identifier}, found no such file"
                )
            label = None
            if labels_folder is not None:
                label = labels_folder / f"{identifier}{self.file_ending}"
                if not label.is_file():
                    raise SamsegInputError(
                        f"{label}: expected the label of case {identifier}, found no such file"
                    )
            images = tuple(
                images_folder / f"{identifier}_{c:04d}{self.file_ending}"
                for c in range(self.num_channel_files)
            )
            cases.append(CaseFiles(identifier, images, label))
        if labels_folder is not None and labels_folder.is_dir():
            orphans = sorted(
                name
                for name in os.listdir(labels_folder)
                if name.endswith(self.file_ending)
                and name[: -len(self.file_ending)] not in channels_found
            )
            if orphans:
                raise SamsegInputError(
                    f"{labels_folder / orphans[0]}: expected an image for every label, found no "
                    f"{orphans[0][: -len(self.file_ending)]}_0000{self.file_ending} "
                    f"in {images_folder}"
                )
        return cases

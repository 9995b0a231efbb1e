"""The per-case and per-batch hooks of the slice predictor, as declared protocols.

A slice network (``samseg.inference.network``) may implement either protocol; the predictor
calls the hook when the network (or the network a precision wrapper holds) has it, so
test-time adaptors plug in without changes to the predictor:

- :class:`CaseHook`: ``begin_case(context)`` once per case, before its first batch, with a
  :class:`CaseContext`: the case identifier, the preprocessed case, and the annotated
  reference case an adaptor may use (P²SAM: a prior scan of the same patient).
- :class:`BatchHook`: ``begin_batch(batch)`` before every forward call, with the
  :class:`~samseg.inference.network.SliceBatch` saying where each input image comes from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from samseg.errors import SamsegInputError
from samseg.inference.network import SliceBatch
from samseg.preprocessing import PreprocessedCase
from samseg.preprocessing.storage import StoredCase


@dataclass(frozen=True)
class CaseContext:
    """What a network learns about the case it is about to segment.

    Attributes:
        identifier: the case identifier (``CASE`` of ``CASE_0000.nii.gz``).
        case: the preprocessed case: ``data`` (c, slices, R, C) float16 0-255 (numpy or
            blosc2), ``label`` ``None`` (or, in prompted prediction, the prompt label
            preprocessed with the image, (1, slices, R, C)), ``properties``.
        reference: an annotated case preprocessed with the same plans (``label``
            (1, slices, R, C) not ``None``), for adaptors that segment by example; ``None``
            when the prediction was given none.
    """

    identifier: str
    case: PreprocessedCase | StoredCase
    reference: PreprocessedCase | StoredCase | None = None

    def __post_init__(self) -> None:
        reference = self.reference
        if reference is None:
            return
        if reference.label is None:
            raise SamsegInputError(
                f"reference for case {self.identifier}: expected an annotated case (a label), "
                "found a case without label"
            )
        if reference.data.shape[0] != self.case.data.shape[0]:
            raise SamsegInputError(
                f"reference for case {self.identifier}: expected {self.case.data.shape[0]} "
                f"channels like the case, found {reference.data.shape[0]}"
            )


@runtime_checkable
class CaseHook(Protocol):
    """A network that wants to see each case before its batches."""

    def begin_case(self, context: CaseContext) -> None: ...


@runtime_checkable
class BatchHook(Protocol):
    """A network that wants to know where the images of each forward call come from."""

    def begin_batch(self, batch: SliceBatch) -> None: ...

"""The context-manager half of every batch stream: ``with stream:`` closes it on exit."""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType
from typing import TypeVar

StreamT = TypeVar("StreamT", bound="ClosingStream")


class ClosingStream(ABC):
    """Base of the batch streams: entering returns the stream, leaving calls :meth:`close`."""

    @abstractmethod
    def close(self) -> None:
        """Free what the stream holds (worker processes, ...); safe to call more than once."""

    def __enter__(self: StreamT) -> StreamT:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

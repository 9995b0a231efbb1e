"""P²SAM as a slice network of the predictor: a prior scan in, a follow-up segmented.

:class:`P2SAMSliceNetwork` wraps a promptable SamSegmenter and implements the predictor's
hooks (``samseg.inference.case_context``): ``begin_case`` builds (once per reference) the
:class:`~samseg.adaptation.volume.ReferenceVolume` of the context's reference case and maps
the target's slices to world positions; ``begin_batch`` learns which slices come; the call
returns (B, C, S, S) logits: channel 0 is 0, channel c the upscaled logits of the class's
P²SAM mask where the slice is in the class's slab and passes the presence test, and prompted
prediction's ``NOT_PROMPTED_LOGIT`` elsewhere (so the argmax is background iff no class logit
is > 0; where two classes overlap, the larger logit wins). Every (slice, class) of a slab is
recorded (:attr:`P2SAMSliceNetwork.records`, for ``--save-prompts``), and every prompted one
can be handed to an ``overlays`` callback (``samseg.adaptation.overlays``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from samseg.adaptation.adaptor import PartAwareAdaptor
from samseg.adaptation.overlays import PromptedSlice
from samseg.adaptation.presence import presence_scores
from samseg.adaptation.settings import AdaptorSettings
from samseg.adaptation.token_grid import mask_to_token_grid
from samseg.adaptation.volume import ReferenceVolume, SingleView, VolumeSettings, single_view
from samseg.errors import SamsegInputError
from samseg.inference.case_context import CaseContext
from samseg.inference.network import SliceBatch
from samseg.inference.prompted_network import NOT_PROMPTED_LOGIT
from samseg.models.segmenter import SamSegmenter
from samseg.plans import SliceConfiguration
from samseg.preprocessing.slice_positions import stored_slice_positions


class P2SAMSliceNetwork(nn.Module):
    """P²SAM for the slice predictor (module docstring).

    Args:
        network: a promptable SamSegmenter (frozen; eval mode).
        configuration: the plans configuration the cases were preprocessed with.
        class_values: label values 1 .. C-1 to segment (channel c is class value c).
        num_classes: C, background included.
        adaptor: P²SAM / PerSAM settings (default ``AdaptorSettings()``).
        volume: pooling, slab and presence settings (default ``VolumeSettings()``).
        references: annotated reference pieces used for every case (several pieces of one
            patient's scans); default: each case's ``CaseContext.reference``.
        overlays: called with every prompted (slice, class) (e.g. to draw it), or ``None``.

    Raises:
        SamsegInputError: ``network`` is not a promptable SamSegmenter.
    """

    def __init__(
        self,
        network: SamSegmenter,
        configuration: SliceConfiguration,
        class_values: Sequence[int],
        num_classes: int,
        adaptor: AdaptorSettings | None = None,
        volume: VolumeSettings | None = None,
        references: Sequence | None = None,
        overlays: Callable[[PromptedSlice], None] | None = None,
    ) -> None:
        super().__init__()
        if not isinstance(network, SamSegmenter):
            raise SamsegInputError(
                f"P²SAM: expected a promptable SAM network (a SamSegmenter with SAM's prompt "
                f"encoder and mask decoder), found {type(network).__name__}"
            )
        self.network = network.eval()
        self.configuration = configuration
        self.class_values = list(class_values)
        self._num_classes = num_classes
        self.adaptor_settings = adaptor or AdaptorSettings()
        self.volume_settings = volume or VolumeSettings()
        self.reference: ReferenceVolume | None = None
        self._fixed_references = None if references is None else list(references)
        self._reference_source: object | None = None
        self._positions: torch.Tensor | None = None
        self._slices: tuple[int, ...] = ()
        self._identifier = ""
        self._view: SingleView | None = None
        self.records: list[dict] = []
        self.overlays = overlays

    @property
    def input_size(self) -> int:
        return self.network.input_size

    @property
    def num_classes(self) -> int:
        return self._num_classes

    def begin_case(self, context: CaseContext) -> None:
        """Build the reference volume (once per reference case) and place the target's slices.

        Raises:
            SamsegInputError: no reference was given, or the slices are cut into several
                windows.
        """
        pieces = self._fixed_references
        if pieces is None and context.reference is not None:
            pieces = [context.reference]
        if not pieces:
            raise SamsegInputError(
                f"case {context.identifier}: P²SAM needs an annotated reference case (a prior "
                "scan and its label), found none"
            )
        channels = context.case.data.shape[0]
        for piece in pieces:
            if piece.data.shape[0] != channels:
                raise SamsegInputError(
                    f"case {context.identifier}: expected a reference with its {channels} "
                    f"channel(s), found {piece.data.shape[0]}"
                )
        if pieces[0] is not self._reference_source:
            self.reference = ReferenceVolume(
                self.network,
                pieces,
                self.configuration,
                self.class_values,
                self.volume_settings,
                kmeans=self.adaptor_settings.kmeans,
            )
            self._reference_source = pieces[0]
        self._view = single_view(
            context.case.data.shape[-2:], self.configuration, f"case {context.identifier}"
        )
        self._positions = stored_slice_positions(context.case.properties, self.reference.normal)
        self._identifier = context.identifier

    def begin_batch(self, batch: SliceBatch) -> None:
        """Remember the batch's slices; refuse flips (prompts and their points are per
        slice, not per mirrored copy)."""
        if batch.flip_dims:
            raise SamsegInputError(
                f"case {self._identifier}: P²SAM predicts unflipped slices, found flips along "
                f"{list(batch.flip_dims)} (run without mirroring: --disable_tta)"
            )
        self._slices = tuple(batch.slice_indices)

    @torch.no_grad()
    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """(B, 3, S, S) 0-255 images of the announced slices -> (B, C, S, S) logits."""
        if self.reference is None or len(self._slices) != len(images):
            raise RuntimeError("P2SAMSliceNetwork: begin_case and begin_batch must come first")
        embeddings = self.network.encode(images).image_embeddings
        size = self.input_size
        logits = torch.full((len(images), self.num_classes, size, size), NOT_PROMPTED_LOGIT)
        logits[:, 0] = 0
        valid = self._view.valid
        classes = [self.reference.classes[v] for v in self.class_values]
        scores = presence_scores(
            torch.stack([c.prototype for c in classes]),
            torch.stack([c.background_prototype for c in classes]),
            embeddings,
            mask_to_token_grid(valid, embeddings.shape[-1]),
            self.volume_settings.presence_score,
        ).tolist()
        for index, slice_index in enumerate(self._slices):
            position = float(self._positions[slice_index])
            for value, score in zip(self.class_values, scores[index], strict=True):
                record = self._segment(embeddings[index], value, position, valid, score)
                record.update(case=self._identifier, slice=slice_index, class_value=value)
                self.records.append({k: v for k, v in record.items() if k != "logits"})
                if record["logits"] is not None:
                    logits[index, value] = record["logits"].cpu()
                    if self.overlays is not None:
                        self._draw(images[index], record, valid)
        return logits.to(images.device)

    def _draw(self, image: torch.Tensor, record: dict, valid: torch.Tensor) -> None:
        """Hand one prompted (slice, class) to the overlays callback."""
        self.overlays(
            PromptedSlice(
                case=self._identifier,
                slice_index=record["slice"],
                class_value=record["class_value"],
                image=image.permute(1, 2, 0).cpu().numpy(),
                mask=((record["logits"] > 0) & valid.to(record["logits"].device)).cpu().numpy(),
                candidate=record["candidates"][record["chosen"]],
            )
        )

    def _segment(
        self,
        embedding: torch.Tensor,
        value: int,
        position: float,
        valid: torch.Tensor,
        score: float,
    ) -> dict:
        """One (slice, class) with its presence ``score``: slab, presence test, then P²SAM; a
        record with ``logits`` ((S, S) or ``None`` when not prompted)."""
        reference = self.reference
        if not reference.in_slab(value, position):
            return {"prompted": False, "reason": "outside the slab", "logits": None}
        threshold = reference.classes[value].threshold
        if score < threshold:
            return {
                "prompted": False,
                "reason": "presence test",
                "presence_score": score,
                "threshold": threshold,
                "logits": None,
            }
        features = reference.features(value, position)
        result = PartAwareAdaptor(self.network, features, self.adaptor_settings).segment(
            embedding, valid
        )
        upscaled = self.network.upscale_logits(result.low_res_logits)[0, 0]
        return {
            "prompted": True,
            "presence_score": score,
            "threshold": threshold,
            "chosen": result.chosen,
            "candidates": [c.to_json() for c in result.candidates],
            "logits": upscaled,
        }

"""A promptable SAM as a slice network: every class segmented with prompts from a label.

:class:`PromptedNetwork` is what the slice predictor runs in prompted prediction
(``samseg_predict --prompts``). It implements both predictor hooks
(``samseg.inference.case_context``): ``begin_case`` takes the case's prompt label (the
preprocessed case's ``label``, preprocessed with the image), ``begin_batch`` says which slice
and window each input image is. For a batch of (B, 3, S, S) images it cuts the label into the
same views (``PlaneTiling.cut_labels``), encodes only the views holding a class, and decodes
every (view, class present) pair in one batch with prompts simulated from that class's mask
(``samseg.prompting.decode_prompt_mode``; the last step's single-mask logits).

Output (B, C, S, S) logits: channel 0 is 0; channel c is the upscaled single-mask logit of
class c where the view holds class c, else :data:`NOT_PROMPTED_LOGIT`. After the predictor's
softmax a pixel is background iff no prompted class has a logit > 0 there, and where the masks
of two classes overlap the class with the larger logit wins.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from samseg.errors import SamsegInputError
from samseg.inference.case_context import CaseContext
from samseg.inference.network import SliceBatch
from samseg.models.promptable import PromptableNetwork
from samseg.preprocessing import PreprocessedCase
from samseg.preprocessing.storage import StoredCase
from samseg.prompting import PromptingSettings, PromptMode, decode_prompt_mode

NOT_PROMPTED_LOGIT = -1.0e4
"""The logit of a class in a view where it got no prompt (absent from the prompt label)."""


class PromptedNetwork(nn.Module):
    """A promptable network prompted per view and class from the case's prompt label.

    It computes in fp32, or in bf16 when called under autocast (the predictor's ``bf16``
    precision); the network's own ``precision`` is restored after every call.
    """

    def __init__(
        self,
        network: PromptableNetwork,
        num_classes: int,
        mode: PromptMode,
        settings: PromptingSettings | None = None,
    ) -> None:
        """
        Args:
            network: a SamSegmenter or ProMISe network (``samseg.models.promptable``: its
                promptable interface is used, never its class head; prompt set of class c
                decoded with ``classes`` c - 1); not copied.
            num_classes: C, the plans' classes, background included; class c is label
                value c of the prompt label.
            mode: ``box``, ``point``, ``points:N`` or ``clicks:N``.
            settings: how prompts are fed (``points:N``'s seed, ...); default: SAM's
                interactive protocol, seed 0.
        """
        super().__init__()
        self.network = network
        self.num_classes = int(num_classes)
        self.mode = mode
        self.settings = settings or PromptingSettings()
        self._case: PreprocessedCase | StoredCase | None = None
        self._identifier = ""
        self._batch: SliceBatch | None = None
        self.decoded_pairs = 0
        """(view, class) pairs decoded since construction (for tests and logs)."""

    @property
    def input_size(self) -> int:
        """S, the network's input side in pixels."""
        return self.network.input_size

    def begin_case(self, context: CaseContext) -> None:
        """Take the case's prompt label.

        Raises:
            SamsegInputError: the case carries no label (no prompt label was given).
        """
        if context.case.label is None:
            raise SamsegInputError(
                f"case {context.identifier}: prompted prediction needs the case's prompt label "
                "(--prompt_labels DIR), found a case without label"
            )
        self._case = context.case
        self._identifier = context.identifier
        self._batch = None

    def begin_batch(self, batch: SliceBatch) -> None:
        """Learn which slices and windows the next images are."""
        self._batch = batch

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """(B, 3, S, S) 0-255 images -> (B, C, S, S) fp32 logits (see the module docstring)."""
        if self._case is None or self._batch is None:
            raise RuntimeError("PromptedNetwork needs begin_case and begin_batch before a call")
        batch = self._batch
        if len(batch.slice_indices) != len(images):
            raise RuntimeError(
                f"begin_batch described {len(batch.slice_indices)} images, found {len(images)}"
            )
        views = self._label_views(batch).to(images.device)
        logits = torch.full(
            (len(images), self.num_classes, *images.shape[-2:]),
            NOT_PROMPTED_LOGIT,
            device=images.device,
        )
        logits[:, 0] = 0
        classes = torch.arange(1, self.num_classes, device=images.device)
        present = (views[:, None] == classes[:, None, None]).flatten(2).any(dim=2)
        pairs = present.nonzero()
        if len(pairs) == 0:
            return logits
        image_index, class_index = pairs[:, 0], pairs[:, 1] + 1
        targets = (views[image_index] == class_index[:, None, None]).cpu().numpy()
        own = self.network.precision
        autocast = torch.is_autocast_enabled(images.device.type)
        self.network.precision = "bf16" if autocast else "fp32"
        try:
            needed, position = image_index.unique(return_inverse=True)
            embeddings = self.network.encode(images[needed]).image_embeddings
            steps = decode_prompt_mode(
                self.network,
                embeddings[position],
                targets,
                self.mode,
                self.settings,
                classes=class_index - 1,
            )
        finally:
            self.network.precision = own
        logits[image_index, class_index] = self.network.upscale_logits(steps[-1])[:, 0].float()
        self.decoded_pairs += len(pairs)
        return logits

    def _label_views(self, batch: SliceBatch) -> torch.Tensor:
        """(B, S, S) int64 prompt-label views: the case's label cut like the images."""
        label = self._case.label
        slices = torch.stack(
            [
                torch.from_numpy(np.asarray(label[0, index], dtype=np.int64))
                for index in batch.slice_indices
            ]
        )
        views = batch.tiling.cut_labels(slices, batch.windows)
        flips = tuple(dim - 1 for dim in batch.flip_dims)
        return views.flip(flips) if flips else views

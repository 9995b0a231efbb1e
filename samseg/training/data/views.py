"""The network-input views of one stored slice: what the predictor feeds the network (numpy).

:func:`network_input_views` is the one function for "stored slice -> network-input views": an
embedding cache computes the embeddings of exactly these images (and trains on these labels),
so a frozen-encoder trainer sees what the predictor will show the network. The geometry is the
configuration's :class:`~samseg.slice_frame.SliceFrame`: one view when the slice is resized to
fill the input or fits into the frame (zero-padded), else one per sliding window.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from samseg.plans import SliceConfiguration
from samseg.slice_frame import SliceFrame, Window
from samseg.training.data.crop import padded_crop
from samseg.training.data.resize import resize_images, resize_labels


@dataclass(frozen=True)
class NetworkViews:
    """The S x S network inputs of one slice.

    Attributes:
        images: (W, K, S, S) float32, in the slice's units (0-255 SAM pixels).
        labels: (W, S, S) labels in the dtype given, or ``None`` without labels.
        windows: W windows of ``frame`` (top-left corners in the padded framed slice), or
            ``(None,)`` when the slice is resized to fill the input.
        frame: the slice's frame.
    """

    images: np.ndarray
    labels: np.ndarray | None
    windows: tuple[Window | None, ...]
    frame: SliceFrame


def network_input_views(
    image: np.ndarray,
    label: np.ndarray | None,
    configuration: SliceConfiguration,
    scale: float = 1.0,
) -> NetworkViews:
    """The network inputs of one slice, cut as the predictor cuts them.

    Images are resampled bilinearly (equal to the predictor's ``F.interpolate`` to float32
    rounding), labels by nearest neighbour, then padded and cut into the frame's windows.

    Args:
        image: (K, R, C) SAM input of the slice, e.g. ``sam_input_slices(data, [s], k)[0]``.
        label: (R, C) labels of the slice, or ``None``.
        configuration: the plans configuration.
        scale: extra zoom on top of the configuration's (``fixed_scale`` only), for scaled
            copies (0.8: the slice 20 % smaller in the input); 1: the predictor's views.

    Returns:
        The views (see :class:`NetworkViews`).
    """
    frame = SliceFrame.for_configuration(image.shape[-2:], configuration, scale=scale)
    if frame.resamples:
        image = resize_images(image, frame.framed_shape)
        label = None if label is None else resize_labels(label, frame.framed_shape)
    if frame.resizes:
        images = np.array(image, dtype=np.float32)[None]
        return NetworkViews(images, None if label is None else label[None], (None,), frame)
    size = frame.input_size
    (top, _), (left, _) = frame.padding
    corners = [(r - top, c - left) for r, c in frame.windows]
    images = np.stack([padded_crop(image, r, c, size).astype(np.float32) for r, c in corners])
    labels = None
    if label is not None:
        labels = np.stack([padded_crop(label, r, c, size) for r, c in corners])
    return NetworkViews(images, labels, frame.windows, frame)

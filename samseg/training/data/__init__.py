"""Training data: slice sampling from the preprocessed store, augmentation, worker streams
(see documentation/training_data.md)."""

from samseg.training.data.augmentation import AugmentationSettings, build_transforms, source_size
from samseg.training.data.loader import SliceBatchStream, make_slice_loader
from samseg.training.data.resize import resize_images, resize_labels

__all__ = [
    "AugmentationSettings",
    "SliceBatchStream",
    "build_transforms",
    "make_slice_loader",
    "resize_images",
    "resize_labels",
    "source_size",
]

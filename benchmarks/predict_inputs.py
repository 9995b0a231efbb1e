"""Inputs of benchmarks/predict.py: the CT volume, its plans, and the naive reference loop.

The naive loop predicts as the TransUNet and SAMed test scripts do: slice by slice (batch 1,
fp32), zoomed to the input with ``scipy.ndimage.zoom`` (order 3), the arg-max zoomed back
(order 0); it shares samseg's preprocessing, inputs, network and export.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import SimpleITK as sitk
import torch
from scipy import ndimage

from samseg.dataset import DatasetDescription, LabelScheme
from samseg.inference import SegmentationExporter
from samseg.io import SimpleITKIO
from samseg.plans import ChannelNormalization, LabelHandling, Plans, SliceConfiguration
from samseg.preprocessing import preprocess_case
from samseg.slices import sam_input_slices

REPO = Path(__file__).resolve().parents[1]
ABDOMEN_CT = REPO.parent / "shared/data/Dataset901_AbdomenCTExample/imagesTr/abd_001_0000.nii.gz"
SIDE = 512
SLICE_SPACING = 3.0
NUM_CLASSES = 9


def make_volume(folder: Path, num_slices: int) -> Path:
    """Write the benchmark CT (num_slices, 512, 512) int16 HU as NIfTI; return its path."""
    if ABDOMEN_CT.is_file():
        ct = sitk.GetArrayFromImage(sitk.ReadImage(str(ABDOMEN_CT))).astype(np.float32)
        middle = ct.shape[0] // 2
        indices = np.clip(np.arange(num_slices) + middle - num_slices // 2, 0, len(ct) - 1)
        slab = ct[indices]
        zoom = (1, SIDE / slab.shape[1], SIDE / slab.shape[2])
        volume = ndimage.zoom(slab, zoom, order=1)
        spacing = (SLICE_SPACING, 3.0 / zoom[1], 3.0 / zoom[2])
    else:
        rows, columns = np.mgrid[:SIDE, :SIDE] / SIDE - 0.5
        body = np.where(rows**2 / 0.16 + columns**2 / 0.2 < 1, 40.0, -1000.0)
        volume = body + np.random.default_rng(0).normal(0, 20, (num_slices, SIDE, SIDE))
        spacing = (SLICE_SPACING, 0.7, 0.7)
    image = sitk.GetImageFromArray(np.round(volume).astype(np.int16))
    image.SetSpacing(tuple(reversed(spacing)))
    path = folder / "ct_0000.nii.gz"
    sitk.WriteImage(image, str(path))
    return path


def benchmark_plans(image_path: Path, input_size: int) -> Plans:
    """Plans slicing along z at the volume's own in-plane spacing (no resampling)."""
    spacing = tuple(reversed(sitk.ReadImage(str(image_path)).GetSpacing()))
    configuration = SliceConfiguration(
        input_size=input_size,
        large_slice_handling="resize",
        sliding_window_step=0.5,
        context_slices=1,
        batch_size=16,
        model_type="vit_b",
        data_identifier="samsegPlans_2d",
    )
    return Plans(
        dataset_name="Dataset999_Benchmark",
        plans_name="samsegPlans",
        planner="benchmark",
        image_reader_writer="SimpleITKIO",
        slice_axis=0,
        transpose_forward=(0, 1, 2),
        original_median_spacing=spacing,
        target_spacing=spacing,
        median_shape_after_resampling=(8, SIDE, SIDE),
        normalization=(ChannelNormalization("CTNormalization", -125.0, 275.0),),
        label_handling=LabelHandling(
            class_names=("background", *(f"organ{i}" for i in range(1, NUM_CLASSES))),
            label_values=tuple(range(NUM_CLASSES)),
        ),
        configurations={f"2d_{input_size}": configuration},
        gpu_memory_target_gb=24.0,
    )


def benchmark_description(plans: Plans) -> DatasetDescription:
    """dataset.json of the benchmark: one CT channel, the plans' classes."""
    names = plans.label_handling.class_names
    labels = LabelScheme.from_json({n: v for v, n in enumerate(names)}, None, Path("benchmark"))
    return DatasetDescription(("CT",), labels, ".nii.gz", 1)


def naive_loop(
    image_path: Path, plans: Plans, network: torch.nn.Module, device: torch.device
) -> np.ndarray:
    """TransUNet/SAMed-style prediction: slice by slice, scipy zoom there and back."""
    case = preprocess_case([image_path], None, plans, SimpleITKIO())
    size = network.input_size
    context = next(iter(plans.configurations.values())).context_slices
    num_classes = plans.label_handling.num_classes
    exporter = SegmentationExporter(case.properties, plans.label_handling, num_classes)
    for index in range(case.data.shape[1]):
        image = sam_input_slices(case.data, [index], context)[0]
        rows, columns = image.shape[1:]
        zoomed = ndimage.zoom(image, (1, size / rows, size / columns), order=3)
        with torch.inference_mode():
            logits = network(torch.from_numpy(zoomed)[None].to(device)).logits
        label = logits.argmax(1)[0].cpu().numpy()
        label = ndimage.zoom(label, (rows / size, columns / size), order=0)
        one_hot = (np.arange(num_classes)[:, None, None] == label)[:, None]
        exporter.add(index, one_hot.astype(np.float32))
    return exporter.segmentation()

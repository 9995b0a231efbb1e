"""Dataset conversion into nnU-Net v2 raw layout: BTCV, TransUNet's Synapse, synthetic demo."""

from samseg.conversion.btcv import convert_btcv, find_btcv_cases
from samseg.conversion.demo_anatomy import DEMO_LABELS, DemoCase, synthesize_demo_case
from samseg.conversion.demo_dataset import make_demo_dataset, make_demo_dataset_report
from samseg.conversion.raw_writer import ConversionReport
from samseg.conversion.synapse import (
    BTCV_TO_SYNAPSE,
    SYNAPSE_CASES,
    SYNAPSE_LABELS,
    SYNAPSE_TEST_CASES,
    map_btcv_labels,
    synapse_case_id,
)
from samseg.conversion.transunet import convert_transunet, hu_to_normalized, normalized_to_hu

__all__ = [
    "BTCV_TO_SYNAPSE",
    "DEMO_LABELS",
    "SYNAPSE_CASES",
    "SYNAPSE_LABELS",
    "SYNAPSE_TEST_CASES",
    "ConversionReport",
    "DemoCase",
    "convert_btcv",
    "convert_transunet",
    "find_btcv_cases",
    "hu_to_normalized",
    "make_demo_dataset",
    "make_demo_dataset_report",
    "map_btcv_labels",
    "normalized_to_hu",
    "synapse_case_id",
    "synthesize_demo_case",
]

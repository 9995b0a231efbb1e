"""Dataset conversion into nnU-Net v2 raw layout: BTCV and TransUNet's Synapse."""

from samseg.conversion.btcv import convert_btcv, find_btcv_cases
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
    "SYNAPSE_CASES",
    "SYNAPSE_LABELS",
    "SYNAPSE_TEST_CASES",
    "ConversionReport",
    "convert_btcv",
    "convert_transunet",
    "find_btcv_cases",
    "hu_to_normalized",
    "map_btcv_labels",
    "normalized_to_hu",
    "synapse_case_id",
]

"""SAM-family networks: encoder families, building, checkpoints, LoRA, multi-class and
promptable heads.

Build every network with :func:`build_sam`; see documentation/models.md.
"""

from samseg.models.architectures import (
    SAM_ARCHITECTURES,
    SAM_PIXEL_MEAN,
    SAM_PIXEL_STD,
    SamArchitecture,
    check_input_size,
    get_architecture,
)
from samseg.models.builder import build_sam
from samseg.models.checkpoint_io import CheckpointContents, read_checkpoint
from samseg.models.encoder import encode_image
from samseg.models.encoders import (
    MODEL_TYPES,
    BlockFeature,
    EncoderFamily,
    MemoryFigures,
    get_encoder_family,
)
from samseg.models.encoders.tinyvit import TinyViT, TinyViTConfig
from samseg.models.fast_attention import SdpaAttention, use_fast_attention, uses_fast_attention
from samseg.models.freezing import (
    FREEZING_POLICIES,
    FreezingPolicy,
    ParameterCount,
    apply_freezing,
    count_parameters,
    format_parameter_table,
)
from samseg.models.lora import LoraSettings, apply_lora, has_lora, merge_lora, merged_state_dict
from samseg.models.mask_decoder import MultiClassMaskDecoder
from samseg.models.precision import Precision
from samseg.models.sam_import import import_segment_anything
from samseg.models.segmenter import EncodedImages, PromptedMasks, SamSegmenter, SegmenterOutput
from samseg.models.weights import LoadReport, load_checkpoint

__all__ = [
    "FREEZING_POLICIES",
    "MODEL_TYPES",
    "SAM_ARCHITECTURES",
    "SAM_PIXEL_MEAN",
    "SAM_PIXEL_STD",
    "BlockFeature",
    "CheckpointContents",
    "EncodedImages",
    "EncoderFamily",
    "FreezingPolicy",
    "LoadReport",
    "LoraSettings",
    "MemoryFigures",
    "MultiClassMaskDecoder",
    "ParameterCount",
    "Precision",
    "PromptedMasks",
    "SamArchitecture",
    "SamSegmenter",
    "SdpaAttention",
    "SegmenterOutput",
    "TinyViT",
    "TinyViTConfig",
    "apply_freezing",
    "apply_lora",
    "build_sam",
    "check_input_size",
    "count_parameters",
    "encode_image",
    "format_parameter_table",
    "get_architecture",
    "get_encoder_family",
    "has_lora",
    "import_segment_anything",
    "load_checkpoint",
    "merge_lora",
    "merged_state_dict",
    "read_checkpoint",
    "use_fast_attention",
    "uses_fast_attention",
]

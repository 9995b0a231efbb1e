"""What an embedding depends on, and the cache folder named after it.

A cached embedding is valid while everything that went into it is unchanged: the plans and
configuration (slice geometry, zoom, normalisation, context slices, input size), the encoder
(model type, family normalisation, precision, a hash of its weights), the cached block outputs
and scaled copies, and the cache format. :class:`CacheKey` holds all of it; its digest names the
cache folder, so a change of any part gives a new, empty cache, and the old one stays usable
by runs that still match it. Per case, the index also records the size and modification time
of the preprocessed data file, so a re-preprocessed case is encoded again.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn

from samseg.plans import Plans
from samseg.training.cache.settings import EmbeddingCacheSettings

CACHE_FORMAT_VERSION = 1
CACHE_ROOT_NAME = "embedding_cache"
KEY_FILE = "cache_key.json"


def encoder_weights_hash(image_encoder: nn.Module) -> str:
    """sha256 (hex) of an encoder's state dict: names, dtypes, shapes and values, in order."""
    digest = hashlib.sha256()
    for name, tensor in image_encoder.state_dict().items():
        value = tensor.detach().cpu().contiguous()
        digest.update(f"{name}|{value.dtype}|{tuple(value.shape)}|".encode())
        digest.update(value.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


@dataclass(frozen=True, kw_only=True)
class CacheKey:
    """Everything a cached embedding depends on (see the module docstring).

    Attributes:
        dataset_name, plans_name, configuration_name: what the preprocessed data came from.
        configuration: the configuration's JSON (input size, scaling, zoom, context slices,
            window step, data identifier ...).
        normalization: the plans' per-channel intensity normalisation JSON.
        model_type: the encoder's model type.
        pixel_normalisation: the encoder family's pixel normalisation.
        precision: the network's precision setting during encoding.
        encoder_weights: :func:`encoder_weights_hash` of the image encoder.
        settings: the trainer's cache settings (blocks, scales, window step).
    """

    dataset_name: str
    plans_name: str
    configuration_name: str
    configuration: dict
    normalization: list
    model_type: str
    pixel_normalisation: str
    precision: str
    encoder_weights: str
    settings: dict

    @classmethod
    def of(
        cls,
        *,
        plans: Plans,
        configuration_name: str,
        model_type: str,
        pixel_normalisation: str,
        precision: str,
        encoder_weights: str,
        settings: EmbeddingCacheSettings,
    ) -> CacheKey:
        """The key of ``plans``' configuration encoded by the described encoder."""
        plans_json = plans.to_json()
        return cls(
            dataset_name=plans.dataset_name,
            plans_name=plans.plans_name,
            configuration_name=configuration_name,
            configuration=_plain(plans_json["configurations"][configuration_name]),
            normalization=_plain(plans_json["normalization"]),
            model_type=model_type,
            pixel_normalisation=pixel_normalisation,
            precision=precision,
            encoder_weights=encoder_weights,
            settings=_plain(asdict(settings)),
        )

    def to_json(self) -> dict:
        return {"format_version": CACHE_FORMAT_VERSION, **asdict(self)}

    @property
    def digest(self) -> str:
        """First 16 hex digits of the sha256 of the key's canonical JSON."""
        text = json.dumps(self.to_json(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def folder(self, preprocessed_folder: Path) -> Path:
        """``PREPROCESSED/DatasetXXX_Name/embedding_cache/<configuration>__<model>__<digest>``."""
        name = f"{self.configuration_name}__{self.model_type}__{self.digest}"
        return Path(preprocessed_folder) / CACHE_ROOT_NAME / name


def _plain(value: object) -> object:
    """``value`` as plain JSON types (tuples become lists), for stable comparison."""
    return json.loads(json.dumps(value))

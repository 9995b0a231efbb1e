"""A trainer's embedding cache: checks that it may use one, builds it on first use, and hands
out batch streams (the trainer calls this; nothing here knows a trainer class)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from samseg.errors import SamsegConfigError
from samseg.models.segmenter import SamSegmenter
from samseg.plans import Plans
from samseg.training.cache.build import build_embedding_cache
from samseg.training.cache.key import CacheKey, encoder_weights_hash
from samseg.training.cache.settings import EmbeddingCacheSettings, augmentations_switched_off
from samseg.training.cache.store import EmbeddingCache
from samseg.training.cache.stream import CachedBatchStream
from samseg.training.data.augmentation import AugmentationSettings
from samseg.training.data.targets import ClassIndexTargets

if TYPE_CHECKING:
    from samseg.training.trainer import SAMTrainer


class TrainerEmbeddingCache:
    """The embedding cache of one trainer's fold.

    Args:
        settings: the trainer's cache settings.
        plans: the dataset's plans.
        configuration_name: the trained configuration.
        model_type: the network's model type.
        preprocessed_folder: ``PREPROCESSED/DatasetXXX_Name`` (the cache lives below it).
        data_folder: the configuration's preprocessed data folder.
        case_ids: every case the fold reads (training and validation).
        foreground_oversampling: share of each batch drawn for foreground.
        show_progress: progress bar while encoding.
        log: where the cache's log lines go.
    """

    def __init__(
        self,
        *,
        settings: EmbeddingCacheSettings,
        plans: Plans,
        configuration_name: str,
        model_type: str,
        preprocessed_folder: Path,
        data_folder: Path,
        case_ids: Sequence[str],
        foreground_oversampling: float,
        show_progress: bool,
        log: Callable[[str], None],
    ) -> None:
        self.settings = settings
        self.plans = plans
        self.configuration_name = configuration_name
        self.model_type = model_type
        self.preprocessed_folder = preprocessed_folder
        self.data_folder = data_folder
        self.case_ids = list(dict.fromkeys(case_ids))
        self.targets = ClassIndexTargets(plans.label_handling, source=f"plans {plans.plans_name}")
        self.foreground_oversampling = foreground_oversampling
        self.show_progress = show_progress
        self.log = log
        self.cache: EmbeddingCache | None = None

    @classmethod
    def for_trainer(cls, trainer: SAMTrainer, network: SamSegmenter) -> TrainerEmbeddingCache:
        """The cache of ``trainer`` (a ``SAMTrainer`` with ``embedding_cache`` settings).

        Raises:
            SamsegConfigError: the image encoder of ``network`` has trainable parameters
                (cached embeddings would go stale), or training runs on several ranks.
        """
        name = type(trainer).__name__
        trainable = [n for n, p in network.image_encoder.named_parameters() if p.requires_grad]
        if trainable:
            raise SamsegConfigError(
                f"{name}: expected a frozen image encoder to train from the embedding cache, "
                f"found {len(trainable)} trainable encoder parameters ({trainable[0]}, ...)"
            )
        if trainer.distributed.world_size > 1:
            raise SamsegConfigError(
                f"{name}: expected one rank when training from the embedding cache, found "
                f"--num_gpus {trainer.distributed.world_size}"
            )
        return cls(
            settings=trainer.embedding_cache,
            plans=trainer.plans,
            configuration_name=trainer.configuration_name,
            model_type=trainer.network_spec.model_type,
            preprocessed_folder=trainer.preprocessed_folder,
            data_folder=trainer.data_folder,
            case_ids=[*trainer.train_ids, *trainer.val_ids],
            foreground_oversampling=trainer.foreground_oversampling,
            show_progress=trainer.show_progress,
            log=trainer.log.log,
        )

    def description(self, augmentation: AugmentationSettings) -> str:
        """The log's lines on the cache: what it holds and which augmentations are off."""
        off = augmentations_switched_off(augmentation)
        return (
            "embedding cache: the image encoder is frozen, so training reads cached embeddings "
            f"(blocks {list(self.settings.return_blocks)}, scales {list(self.settings.scales)}); "
            f"augmentations switched off, they cannot be applied to cached embeddings: "
            f"{', '.join(off) if off else 'none were on'}"
        )

    def ensure_built(self, network: SamSegmenter) -> EmbeddingCache:
        """The cache of ``network``'s current encoder, encoding the cases it lacks (first
        call only; the encoder is frozen, so its weights, and the key, stay the same)."""
        if self.cache is None:
            key = CacheKey.of(
                plans=self.plans,
                configuration_name=self.configuration_name,
                model_type=self.model_type,
                pixel_normalisation=network.encoder_family.normalisation,
                precision=network.precision,
                encoder_weights=encoder_weights_hash(network.image_encoder),
                settings=self.settings,
            )
            cache = EmbeddingCache(key.folder(self.preprocessed_folder), key, self.data_folder)
            build_embedding_cache(
                cache,
                network,
                self.case_ids,
                self.plans.configuration(self.configuration_name),
                self.settings,
                show_progress=self.show_progress,
                log=self.log,
            )
            self.cache = cache
        return self.cache

    def batches(
        self, network: SamSegmenter, case_ids: Sequence[str], batch_size: int, seed: int
    ) -> CachedBatchStream:
        """A seeded stream of cached batches of ``case_ids``."""
        return CachedBatchStream(
            self.ensure_built(network),
            case_ids,
            targets=self.targets,
            batch_size=batch_size,
            foreground_oversampling=self.foreground_oversampling,
            seed=seed,
        )

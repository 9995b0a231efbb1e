"""The CPU demo recipe: a tiny SAM (vit_tiny) trained from scratch at 128 pixels.

``samseg.planning.DemoTinyPlanner`` writes plans ``samsegDemoPlans`` with one configuration,
``2d_128`` (vit_tiny): the demo's 5 mm slices are ~100 x 110 pixels at ~3 mm, so 128 pixels
keep their full resolution while a ViT of 8 x 8 tokens stays fast on two CPU cores. Run it
with ``samseg_plan_and_preprocess -d Demo -pl DemoTinyPlanner``.
"""

from __future__ import annotations

from samseg.training.trainers.full_finetune import SAMFullFineTuneTrainer


class SAMDemoTinyTrainer(SAMFullFineTuneTrainer):
    """CPU demo: vit_tiny from scratch (--sam_checkpoint none), 600 steps of batch 8."""

    num_epochs = 15
    num_iterations_per_epoch = 40
    num_val_iterations_per_epoch = 4
    save_every = 4
    batch_size = 8
    initial_lr = 1e-3
    warmup_iterations = 40
    model_type = "vit_tiny"

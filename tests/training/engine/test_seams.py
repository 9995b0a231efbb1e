"""Every SAMTrainer seam is overridable from a SAMSEG_extTrainer folder, and a subclass there
changes the schedule through num_epochs and num_iterations_per_epoch."""

from __future__ import annotations

from samseg.training.batch import TrainingBatch
from samseg.training.checkpoints import CHECKPOINT_FINAL, load_checkpoint
from tests.training.engine.conftest import make_engine_trainer


def make_trainer(roots: dict, name: str):
    return make_engine_trainer(roots, name)


def test_an_external_trainer_overrides_every_seam(engine):
    trainer = make_trainer(engine, "SeamTrainer")
    trainer.initialize()
    network = trainer.network
    assert network.built_by_seam
    assert not any(p.requires_grad for p in network.prompt_encoder.parameters())
    assert all(p.requires_grad for p in network.image_encoder.parameters())
    rest, decoder = trainer.optimizer.param_groups
    assert {id(p) for p in decoder["params"]} == {id(p) for p in network.mask_decoder.parameters()}
    assert decoder["initial_lr"] == 10 * rest["initial_lr"] == 10 * trainer.initial_lr
    trainer.run_training()
    assert trainer.passes == 2 * trainer.num_iterations_per_epoch
    assert trainer.validated_batches == trainer.num_val_iterations_per_epoch
    loss_calls = 2 * trainer.num_iterations_per_epoch + trainer.num_val_iterations_per_epoch
    assert trainer.loss.calls == loss_calls
    assert (trainer.output_folder / CHECKPOINT_FINAL).is_file()


def test_a_subclass_changes_epochs_and_iterations(engine):
    trainer = make_trainer(engine, "LongerSeamTrainer")
    trainer.initialize()
    assert trainer.scheduler.total_iterations == 2 * 3
    trainer.run_training()
    assert trainer.passes == 2 * 2 * 3
    final = load_checkpoint(trainer.output_folder / CHECKPOINT_FINAL)
    assert final["current_epoch"] == 2 and len(final["logging"]["train_losses"]) == 2


def test_the_batch_is_typed(engine):
    trainer = make_trainer(engine, "SeamTrainer")
    trainer.initialize()
    with trainer.make_loader(trainer.train_ids, 0, training=True) as batches:
        batch = next(batches)
    assert isinstance(batch, TrainingBatch) and not batch.from_cache
    assert batch.images.shape == (2, 3, 64, 64) and batch.target.shape == (2, 64, 64)
    assert batch.embeddings is None and len(batch.keys) == 2

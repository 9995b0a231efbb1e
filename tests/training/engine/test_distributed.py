"""--num-gpus 2 on the CPU: two gloo ranks train two iterations together; rank 0 writes."""

from __future__ import annotations

import torch

from samseg.training.checkpoints import CHECKPOINT_FINAL
from samseg.training.run import TrainingRequest, train
from tests.training.engine.conftest import CONFIGURATION


def test_two_cpu_ranks_with_gloo(engine):
    request = TrainingRequest(
        dataset="Engine",
        configuration=CONFIGURATION,
        fold=0,
        trainer_name="TinyDistributedTrainer",
        sam_checkpoint="none",
        device="cpu",
        num_processes=2,
        show_progress=False,
    )
    fold_folder = train(request)
    final = torch.load(fold_folder / CHECKPOINT_FINAL, weights_only=True)
    assert final["current_epoch"] == 1
    assert final["lr_scheduler_state"]["last_epoch"] == 2
    logs = list(fold_folder.glob("training_log_*.txt"))
    assert len(logs) == 1
    text = logs[0].read_text()
    assert "x 2 rank(s)" in text and "batch 1 per rank" in text
    assert (fold_folder / "validation" / "summary.json").is_file()

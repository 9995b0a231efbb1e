"""--num_gpus 2 on the CPU: two gloo ranks train two iterations together; rank 0 writes."""

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
    # One network trained together: both ranks end with rank 0's saved weights, bit for bit.
    ranks = [torch.load(fold_folder / f"rank_{r}_weights.pth", weights_only=True) for r in (0, 1)]
    initial = torch.load(fold_folder / "rank_0_initial_weights.pth", weights_only=True)
    assert any(not torch.equal(initial[name], t) for name, t in final["network_weights"].items())
    for name, tensor in final["network_weights"].items():
        assert torch.equal(ranks[0][name], tensor) and torch.equal(ranks[1][name], tensor), name

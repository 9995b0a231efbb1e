"""SAMInteractiveTrainer: simulated prompts, the interaction loss, the engine's per-interaction
steps, promptable_sam checkpoints, learning, and decoder-only training from the cache."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from samseg.inference.model_loading import load_trained_network
from samseg.models import build_sam
from samseg.models.checkpoint_format import PROMPTABLE_SAM_KIND
from samseg.plans import Plans
from samseg.training.batch import TrainingBatch
from samseg.training.checkpoints import CHECKPOINT_FINAL, load_checkpoint
from samseg.training.data import AugmentationSettings
from samseg.training.interactive import (
    InteractionSettings,
    InteractiveLoss,
    binary_targets,
    interaction_losses,
)
from samseg.training.interactive.simulation import (
    PADDING_LABEL,
    draw_first_prompt,
    error_region_points,
    first_points,
    noisy_boxes,
)
from samseg.training.loop import OptimisationStep, foreground_pseudo_dice, validation_epoch
from samseg.training.loss import IGNORE_INDEX
from samseg.training.trainers.interactive import (
    SAMInteractiveDecoderOnlyTrainer,
    SAMInteractiveLoRATrainer,
    SAMInteractiveTrainer,
)
from tests.training.engine.conftest import (
    CONFIGURATION,
    DATASET,
    NUM_CASES,
    engine_environment,
    prepare_dataset,
)


def generator(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_the_first_prompt_follows_the_setting():
    assert InteractionSettings().first_prompt_probabilities(1) == pytest.approx((1 / 3,) * 3)
    assert InteractionSettings().first_prompt_probabilities(2) == pytest.approx((0, 0.5, 0.5))
    settings = InteractionSettings(first_prompt_weights=(1, 0, 3))
    probabilities = settings.first_prompt_probabilities(13)
    assert probabilities == pytest.approx((0.25, 0, 0.75))
    rng = generator()
    kinds = [draw_first_prompt(probabilities, rng) for _ in range(4000)]
    assert "point" not in kinds
    assert kinds.count("none") / len(kinds) == pytest.approx(0.25, abs=0.025)
    uniform = [draw_first_prompt((1 / 3,) * 3, rng) for _ in range(3000)]
    for kind in ("none", "point", "box"):
        assert uniform.count(kind) / 3000 == pytest.approx(1 / 3, abs=0.03)
    with pytest.raises(ValueError, match="first_prompt_weights"):
        InteractionSettings(first_prompt_weights=(0, 0, 0))


def test_error_region_points_lie_in_the_error_region_with_their_labels():
    targets = torch.zeros(3, 20, 20, dtype=torch.bool)
    predictions = torch.zeros(3, 20, 20, dtype=torch.bool)
    targets[:, 5:15, 5:15] = True
    predictions[0, 8:18, 8:18] = True  # both kinds of error
    predictions[1] = targets[1]
    predictions[1, 0, 0:2] = True  # two false positives only
    predictions[2] = targets[2]  # no error
    coords, labels = error_region_points(predictions, targets, 9, generator(3))
    assert coords.shape == (3, 9, 2) and labels.shape == (3, 9)
    x, y = coords[0, :, 0].long(), coords[0, :, 1].long()
    errors = predictions[0] ^ targets[0]
    assert errors[y, x].all()
    assert torch.equal(labels[0], targets[0][y, x].long())
    assert len({(int(a), int(b)) for a, b in zip(x, y, strict=True)}) == 9
    assert {0, 1} <= set(labels[0].tolist())
    assert labels[1, :2].tolist() == [0, 0] and (labels[1, 2:] == PADDING_LABEL).all()
    assert sorted(coords[1, :2, 0].tolist()) == [0.0, 1.0] and (coords[1, :2, 1] == 0).all()
    assert (labels[2] == PADDING_LABEL).all() and (coords[1:, 2:] == 0).all()


def test_first_points_lie_inside_and_boxes_are_noisy_within_the_cap():
    masks = torch.zeros(2, 64, 64, dtype=torch.bool)
    masks[0, 10:30, 20:60] = True
    masks[1, 50:52, 3:5] = True
    coords, labels = first_points(masks, generator())
    assert masks[torch.arange(2), coords[:, 0, 1].long(), coords[:, 0, 0].long()].all()
    assert labels.tolist() == [[1], [1]]
    tight = torch.tensor([[20.0, 10, 59, 29], [3, 50, 4, 51]])
    exact = noisy_boxes(masks, generator(), fraction=0.0, cap=20)
    assert torch.equal(exact, tight)
    rng = generator(1)
    many = torch.stack([noisy_boxes(masks, rng, fraction=0.1, cap=20) for _ in range(400)])
    spread = (many - tight).std(dim=0)
    assert spread[0].tolist() == pytest.approx([3.9, 1.9, 3.9, 1.9], abs=0.6)
    capped = torch.stack([noisy_boxes(masks, rng, fraction=5.0, cap=2.5) for _ in range(50)])
    assert (capped - tight).abs().max() <= 2.5
    assert (capped[..., 0] <= capped[..., 2]).all() and (capped[..., 1] <= capped[..., 3]).all()
    assert capped.min() >= 0 and capped.max() <= 63


def test_the_loss_equals_a_hand_computation():
    logits = torch.tensor([[[[2.0, -1.0], [0.5, -3.0]]]])
    iou_prediction = torch.tensor([[0.7]])
    targets = torch.tensor([[[True, True], [False, False]]])
    valid = torch.tensor([[[True, True], [True, False]]])
    values = [2.0, -1.0, 0.5]
    truth = [1, 1, 0]
    p = [1 / (1 + math.exp(-v)) for v in values]
    dice = 1 - (2 * (p[0] + p[1]) + 1e-5) / (sum(p) + 2 + 1e-5)
    focal = 0.0
    for probability, t in zip(p, truth, strict=True):
        p_t = probability if t else 1 - probability
        alpha_t = 0.25 if t else 0.75
        focal += -alpha_t * (1 - p_t) ** 2 * math.log(p_t)
    focal /= 3
    iou = 1 / 3  # predicted {(0,0), (1,0)}, target {(0,0), (0,1)}
    expected = dice + 20 * focal + (0.7 - iou) ** 2
    found = InteractiveLoss()(logits, iou_prediction, targets, valid)
    assert float(found) == pytest.approx(expected, rel=1e-6)


def test_binary_targets_take_the_sampled_class_when_present():
    target = torch.zeros(4, 8, 8, dtype=torch.int64)
    target[0, :2] = 1
    target[0, 4:] = 2
    target[1, :2] = 2
    target[2, 0, 0] = IGNORE_INDEX  # no foreground: left out
    target[3, :3] = 1
    target[3, 7] = IGNORE_INDEX
    sampled = torch.tensor([2, 1, 1, -1])
    chosen = binary_targets(target, sampled, generator())
    assert chosen.index.tolist() == [0, 1, 3]
    assert chosen.classes.tolist() == [2, 2, 1]  # 1 is absent from sample 1: 2 is
    assert torch.equal(chosen.masks, target[[0, 1, 3]] == chosen.classes[:, None, None])
    assert not chosen.valid[2, 7].any() and chosen.valid[2, :7].all()
    draws = {int(binary_targets(target[:1], None, generator(s)).classes[0]) for s in range(20)}
    assert draws == {1, 2}


def tiny_network(size: int = 64):
    torch.manual_seed(0)
    network = build_sam("vit_tiny", size, None, num_classes=3)
    network.precision = "fp32"
    return network


@pytest.mark.parametrize(
    ("weights", "first_call"),
    [
        ((0, 0, 1), (False, True, False)),
        ((0, 1, 0), (True, False, False)),
        ((1, 0, 0), (False, False, False)),
    ],
)
def test_the_episode_has_eleven_steps_and_the_encoder_learns_from_the_first_only(
    weights, first_call
):
    network = tiny_network()
    images = torch.rand(2, 3, 64, 64) * 255
    embeddings = network.encode(images).image_embeddings
    target = torch.zeros(2, 64, 64, dtype=torch.int64)
    target[:, 10:40, 20:50] = 1
    chosen = binary_targets(target, None, generator())
    calls = []
    original = network.predict_with_prompts

    def recording(image, points, boxes, mask_inputs, *, multimask_output):
        calls.append((points is not None, boxes is not None, mask_inputs is not None))
        assert not multimask_output
        return original(image, points, boxes, mask_inputs, multimask_output=multimask_output)

    network.predict_with_prompts = recording
    settings = InteractionSettings(first_prompt_weights=weights)
    losses = list(
        interaction_losses(
            network,
            embeddings,
            chosen,
            loss=InteractiveLoss(),
            settings=settings,
            first_prompt_probabilities=settings.first_prompt_probabilities(1),
            generator=generator(),
        )
    )
    assert len(losses) == 11
    assert calls[0] == first_call
    assert all(mask for _, box, mask in calls[1:]) and not any(box for _, box, _ in calls[1:])
    assert calls[-1] == (False, False, True) and any(points for points, _, _ in calls[1:])
    encoder = [p for p in network.image_encoder.parameters()]
    first = torch.autograd.grad(losses[0], encoder, retain_graph=True, allow_unused=True)
    assert any(g is not None and g.abs().sum() > 0 for g in first)
    later = torch.autograd.grad(sum(losses[1:]), encoder, allow_unused=True)
    assert all(g is None for g in later)


def test_the_engine_steps_once_per_loss_of_an_iterable_and_schedules_once():
    weight = torch.nn.Parameter(torch.tensor(1.0))
    optimizer = torch.optim.SGD([weight], lr=0.1)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    seen = []

    def losses(batch):
        for _ in range(3):
            seen.append(float(weight.detach()))
            yield weight * 2

    step = OptimisationStep(
        batch_loss=losses,
        parameters=[weight],
        optimizer=optimizer,
        scheduler=scheduler,
        grad_scaler=torch.amp.GradScaler("cpu", enabled=False),
        grad_clip_norm=100.0,
        device=torch.device("cpu"),
    )
    batch = type("Batch", (), {"to": lambda self, device: self})()
    value = step(batch)
    assert seen == pytest.approx([1.0, 0.8, 0.6])  # each loss after the previous step
    assert value == pytest.approx(2 * (1.0 + 0.8 + 0.6) / 3)
    assert scheduler.last_epoch == 1


class TinyInteractiveTrainer(SAMInteractiveTrainer):
    """Two steps of batch 2, vit_tiny, no augmentation."""

    num_epochs = 1
    num_iterations_per_epoch = 2
    num_val_iterations_per_epoch = 1
    batch_size = 2
    warmup_iterations = 1
    num_workers = 0
    augmentation = AugmentationSettings.none()
    model_type = "vit_tiny"
    interaction = InteractionSettings(corrective_steps=2)


class TinyInteractiveLoRAStepwiseTrainer(SAMInteractiveLoRATrainer):
    """The LoRA variant, official-code parity: step per interaction, stem and neck train."""

    num_epochs = 1
    num_iterations_per_epoch = 1
    num_val_iterations_per_epoch = 1
    batch_size = 2
    warmup_iterations = 1
    num_workers = 0
    augmentation = AugmentationSettings.none()
    model_type = "vit_tiny"
    interaction = InteractionSettings(corrective_steps=2)
    optimizer_step_per_interaction = True
    train_stem_and_neck = True
    scale_lr_by_batch = True


class TinyInteractiveDecoderOnlyTrainer(SAMInteractiveDecoderOnlyTrainer):
    """Decoder-only from the cache, vit_tiny, batch 4: a point first, one corrective step."""

    num_epochs = 1
    num_iterations_per_epoch = 80
    num_val_iterations_per_epoch = 4
    batch_size = 4
    warmup_iterations = 5
    initial_lr = 2e-3
    model_type = "vit_tiny"
    interaction = InteractionSettings(corrective_steps=1, first_prompt_weights=(0, 1, 0))


@pytest.fixture(scope="module")
def interactive_roots(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return prepare_dataset(tmp_path_factory.mktemp("interactive"), DATASET, NUM_CASES)


@pytest.fixture
def roots(interactive_roots, tmp_path):
    with engine_environment({**interactive_roots, "results": tmp_path / "results"}) as found:
        yield found


def make(roots: dict, cls, **attributes):
    plans = Plans.load(roots["preprocessed"] / DATASET / "samsegPlans.json")
    if attributes:
        cls = type(cls.__name__, (cls,), attributes)
    return cls(
        plans=plans,
        configuration=CONFIGURATION,
        fold=0,
        device=torch.device("cpu"),
        sam_checkpoint="none",
        show_progress=False,
    )


def test_two_steps_write_a_promptable_checkpoint_that_rebuilds(roots):
    trainer = make(roots, TinyInteractiveTrainer)
    trainer.initialize()
    head_before = trainer.network.mask_decoder.class_tokens.weight.detach().clone()
    with trainer.make_loader(trainer.train_ids, 0, training=True) as batches:
        batch = next(batches)
    assert (batch.sampled_classes >= 1).all()
    for target, drawn in zip(batch.target, batch.sampled_classes, strict=True):
        assert (target == drawn).any()
    trainer.run_training()
    assert trainer.perform_validation() is None
    log = trainer.log.path.read_text()
    assert "no prompt-free validation" in log and "prompted pseudo Dice per class: box" in log
    assert "0 of 4 training samples had no foreground" in log
    path = trainer.output_folder / CHECKPOINT_FINAL
    checkpoint = load_checkpoint(path)
    assert checkpoint["network"]["kind"] == PROMPTABLE_SAM_KIND
    network = load_trained_network(path)
    for name, tensor in checkpoint["network_weights"].items():
        assert torch.equal(network.state_dict()[name], tensor), name
    assert torch.equal(network.mask_decoder.class_tokens.weight, head_before)
    head = [n for n, p in trainer.network.named_parameters() if "class_" in n]
    assert head and not any(trainer.network.get_parameter(n).requires_grad for n in head)
    empty = TrainingBatch(
        target=torch.zeros(2, 64, 64, dtype=torch.int64), keys=["a", "b"], images=batch.images
    )
    skipped = trainer._epoch_samples[1]
    zero = trainer.batch_loss(empty)
    assert float(zero.detach()) == 0 and zero.requires_grad
    assert trainer._epoch_samples[1] == skipped + 2
    resumed = make(roots, TinyInteractiveTrainer)
    resumed.initialize(pretrained=False)
    resumed.load_checkpoint(path)
    state = trainer.interaction_generator.get_state()
    assert torch.equal(resumed.interaction_generator.get_state(), state)
    assert not torch.equal(torch.Generator().manual_seed(trainer.seed).get_state(), state)


def test_the_lora_parity_variant_steps_per_interaction(roots):
    trainer = make(roots, TinyInteractiveLoRAStepwiseTrainer)
    trainer.initialize()
    names = {n for n, p in trainer.network.named_parameters() if p.requires_grad}
    assert any("lora_" in n for n in names) and any("patch_embed" in n for n in names)
    assert any(n.startswith("prompt_encoder.") for n in names)
    assert not any(n.startswith("mask_decoder.class_") for n in names)
    assert trainer.optimizer.param_groups[0]["initial_lr"] == pytest.approx(1e-4 * 2 / 256)
    steps = []
    trainer.optimizer.register_step_post_hook(lambda *args: steps.append(1))
    trainer.run_training()
    assert len(steps) == 3  # 1 iteration x (1 + 2 corrective steps)
    paper = make(roots, SAMInteractiveLoRATrainer, model_type="vit_tiny", batch_size=2)
    paper.initialize()
    names = {n for n, p in paper.network.named_parameters() if p.requires_grad}
    assert not any("patch_embed" in n or n.startswith("prompt_encoder.") for n in names)


def point_dice(trainer) -> float:
    trainer._epoch_modes = {}
    trainer.network.eval()
    with trainer.make_loader(trainer.val_ids, 0, training=False) as batches:
        validation_epoch(
            trainer.validation_counts,
            batches,
            trainer.num_val_iterations_per_epoch,
            num_classes=3,
            device=trainer.device,
        )
    return float(np.mean(foreground_pseudo_dice(trainer._epoch_modes["point"])))


def test_decoder_only_learns_points_and_keeps_the_encoder(roots):
    trainer = make(roots, TinyInteractiveDecoderOnlyTrainer)
    trainer.initialize()
    encoder = {k: v.clone() for k, v in trainer.network.image_encoder.state_dict().items()}
    with trainer.make_loader(trainer.train_ids, 0, training=True) as batches:
        batch = next(batches)
    assert batch.from_cache and (batch.sampled_classes >= 1).all()
    for target, drawn in zip(batch.target, batch.sampled_classes, strict=True):
        assert (target == drawn).any()
    untrained = point_dice(trainer)
    trainer.run_training()
    trained = point_dice(trainer)
    assert trained > untrained + 0.2, (untrained, trained)  # measured 0.51 vs 0.15
    final = load_checkpoint(trainer.output_folder / CHECKPOINT_FINAL)
    for name, tensor in encoder.items():
        assert torch.equal(final["network_weights"][f"image_encoder.{name}"], tensor), name


def test_the_registry_finds_the_interactive_trainers_and_the_demo_fits(roots):
    from samseg.training.registry import trainer_class
    from samseg.training.trainers.interactive import SAMInteractiveDemoLiteMedSAMTrainer

    for name in ("SAMInteractiveTrainer", "SAMInteractiveDecoderOnlyTrainer"):
        assert trainer_class(name).__name__ == name
    demo = make(roots, SAMInteractiveDemoLiteMedSAMTrainer)
    assert demo.network_spec.model_type == "litemedsam"
    assert demo.network_spec.kind == PROMPTABLE_SAM_KIND
    assert demo.mixed.precision == "bf16" and demo.embedding_cache is not None
    assert demo.freezing_policy == "decoder" and demo.foreground_oversampling == 1.0


def test_continuing_an_interactive_run_is_exact(roots):
    import shutil

    from samseg.training.checkpoints import CHECKPOINT_LATEST

    attributes = {"num_epochs": 2, "save_every": 1}
    straight = make(roots, TinyInteractiveTrainer, **attributes)
    straight.initialize()
    straight.run_training()
    expected = load_checkpoint(straight.output_folder / CHECKPOINT_FINAL)
    shutil.rmtree(straight.output_folder)
    first = make(roots, TinyInteractiveTrainer, **attributes)
    first.initialize()
    first.train_one_epoch()
    resumed = make(roots, TinyInteractiveTrainer, **attributes)
    resumed.initialize(pretrained=False)
    resumed.load_checkpoint(first.output_folder / CHECKPOINT_LATEST)
    resumed.run_training()
    found = load_checkpoint(resumed.output_folder / CHECKPOINT_FINAL)
    assert found["logging"]["train_losses"] == expected["logging"]["train_losses"]
    for name, tensor in expected["network_weights"].items():
        assert torch.equal(found["network_weights"][name], tensor), name

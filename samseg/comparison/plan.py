"""Check a :class:`ComparisonRequest` before anything trains, and plan what it evaluates.

Bad input is an error here, before any training starts: an unknown trainer (the message lists
the trainers) or an interactive one (its models segment only with prompts), an unknown
adaptor, a budget that is not positive, mixed plans (a configuration the plans lack, trainers
on different backbones, or a finished run of a compared trainer made with other plans), an
unknown baseline or reference case, fold ``all`` without a test set.

The cases: ``imagesTs`` with ``labelsTs`` when the raw dataset has test labels (every trained
model predicts them, several folds ensembled), else the validation cases of each fold (each
fold's model predicts its own). The adaptors take one annotated training case as reference:
``--reference`` or the first training case of the fold (of the first fold for the test set).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from samseg.comparison.budget import budget_trainer_name
from samseg.comparison.request import ADAPTOR_MODES, ComparisonRequest, Method
from samseg.dataset import RawDataset
from samseg.dataset.description import CaseFiles
from samseg.errors import SamsegInputError
from samseg.evaluation import DatasetEvaluationInputs, dataset_evaluation_inputs
from samseg.paths import model_folder, preprocessed_root
from samseg.plans import Plans
from samseg.plans_lookup import load_preprocessed_plans
from samseg.training.fold import fold_case_ids
from samseg.training.registry import trainer_class
from samseg.training.splits import ALL_FOLDS


@dataclass(frozen=True)
class EvaluationPart:
    """Cases predicted and scored together.

    Attributes:
        name: ``test`` or ``fold_F``.
        folds: the folds whose trained models predict these cases.
        images: case identifier -> its channel files.
        label_folder: the cases' reference labels (``labelsTs`` or ``labelsTr``).
        reference: the adaptors' annotated reference case (a training case of the folds).
    """

    name: str
    folds: tuple[int | str, ...]
    images: dict[str, list[Path]]
    label_folder: Path
    reference: CaseFiles


@dataclass(frozen=True)
class ComparisonPlan:
    """A checked request: its plans, methods and evaluation parts."""

    request: ComparisonRequest
    plans: Plans
    evaluation: DatasetEvaluationInputs
    methods: tuple[Method, ...]
    baseline: str
    parts: tuple[EvaluationPart, ...]

    @property
    def protocol(self) -> str:
        """``test`` (imagesTs/labelsTs) or ``validation`` (each fold's validation cases)."""
        return "test" if self.parts[0].name == "test" else "validation"

    def method(self, name: str) -> Method:
        return next(method for method in self.methods if method.name == name)


def plan_comparison(request: ComparisonRequest) -> ComparisonPlan:
    """Check ``request`` and plan it (nothing is trained or written).

    Raises:
        SamsegInputError, SamsegConfigError: bad input (module docstring), naming the flag or
            file, what was expected and what was found.
    """
    request.budget.check()
    if not request.trainers and not request.adaptors:
        raise SamsegInputError("-tr/--adaptors: expected at least one method, found none")
    unknown = [name for name in request.adaptors if name not in ADAPTOR_MODES]
    if unknown:
        raise SamsegInputError(
            f"--adaptors: expected names of {sorted(ADAPTOR_MODES)}, found {unknown}"
        )
    names = [*request.trainers, *request.adaptors]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise SamsegInputError(f"-tr/--adaptors: expected each method once, found {repeated}")
    if not request.folds:
        raise SamsegInputError("-f: expected at least one fold, found none")
    if request.bootstrap_samples < 100:
        raise SamsegInputError(
            f"--bootstrap: expected at least 100 resamples, found {request.bootstrap_samples}"
        )
    plans = load_preprocessed_plans(request.dataset, request.plans_name)
    configuration = plans.configuration(request.configuration)
    _check_trainers(request, configuration.model_type)
    methods = tuple(
        [Method(t, trainer=budget_trainer_name(t, request.budget)) for t in request.trainers]
        + [Method(a, adaptor_mode=ADAPTOR_MODES[a]) for a in request.adaptors]
    )
    _check_finished_runs(methods, plans, request.configuration)
    baseline = request.baseline or methods[0].name
    if baseline not in names:
        raise SamsegInputError(
            f"--baseline: expected one of the compared methods {names}, found {baseline!r}"
        )
    raw = RawDataset.find(request.dataset)
    if request.adaptors and raw.description.num_channel_files != 1:
        raise SamsegInputError(
            f"{raw.folder / 'dataset.json'}: --adaptors expected a dataset with one channel "
            f"file per case, found {raw.description.num_channel_files}"
        )
    parts = _test_part(request, plans, raw) or _validation_parts(request, plans, raw)
    return ComparisonPlan(
        request, plans, dataset_evaluation_inputs(request.dataset), methods, baseline, parts
    )


def _check_trainers(request: ComparisonRequest, configured: str) -> None:
    """Known, prompt-free trainers of the configuration's backbone (else mixed plans)."""
    from samseg.training.trainers.interactive import SAMInteractiveTrainer

    classes = {name: trainer_class(name) for name in request.trainers}
    promptable = [name for name, cls in classes.items() if issubclass(cls, SAMInteractiveTrainer)]
    if promptable:
        raise SamsegInputError(
            f"-tr: expected prompt-free trainers, found interactive ones {promptable}, whose "
            f"models segment only with prompts (compare them with samseg_evaluate_prompts)"
        )
    backbones = {
        name: getattr(cls, "model_type", None) or configured for name, cls in classes.items()
    }
    other = {name: backbone for name, backbone in backbones.items() if backbone != configured}
    if other:
        raise SamsegInputError(
            f"-tr: mixed plans: expected every trainer to train configuration "
            f"{request.configuration}'s backbone {configured}, found {other}; compare trainers "
            f"of one backbone (plan a configuration for the other)"
        )


def _check_finished_runs(methods: tuple[Method, ...], plans: Plans, configuration: str) -> None:
    """Mixed plans: an existing run of a compared trainer must have been made with ``plans``."""
    for method in methods:
        if method.trainer is None:
            continue
        folder = model_folder(plans.dataset_name, method.trainer, plans.plans_name, configuration)
        recorded = folder / "plans.json"
        if recorded.is_file() and Plans.load(recorded).to_json() != plans.to_json():
            raise SamsegInputError(
                f"{recorded}: mixed plans: expected the plans {plans.plans_name} the comparison "
                f"uses, found other plans (the preprocessed plans changed since this run); "
                f"move {folder} away to retrain"
            )


def _test_part(request: ComparisonRequest, plans: Plans, raw: RawDataset) -> tuple | None:
    images, labels = raw.folder / "imagesTs", raw.folder / "labelsTs"
    if not (images.is_dir() and labels.is_dir()):
        return None
    ending = raw.description.file_ending
    cases = {
        case.identifier: list(case.images)
        for case in raw.description.list_cases(images, None)
        if (labels / f"{case.identifier}{ending}").is_file()
    }
    if not cases:
        return None
    train_ids, _ = _fold_ids(plans, request.configuration, request.folds[0])
    return (
        EvaluationPart(
            "test", request.folds, cases, labels, _reference(request, raw, train_ids, [])
        ),
    )


def _validation_parts(request: ComparisonRequest, plans: Plans, raw: RawDataset) -> tuple:
    if ALL_FOLDS in request.folds:
        raise SamsegInputError(
            f"-f all: expected test labels in {raw.folder / 'labelsTs'} (fold all validates on "
            f"its training cases), found none; give folds 0-4"
        )
    training = {case.identifier: case for case in raw.training_cases}
    parts = []
    for fold in request.folds:
        train_ids, val_ids = _fold_ids(plans, request.configuration, fold)
        images = {i: list(training[i].images) for i in val_ids}
        reference = _reference(request, raw, train_ids, val_ids)
        parts.append(
            EvaluationPart(f"fold_{fold}", (fold,), images, raw.folder / "labelsTr", reference)
        )
    return tuple(parts)


def _fold_ids(plans: Plans, configuration: str, fold: int | str) -> tuple[list[str], list[str]]:
    folder = preprocessed_root() / plans.dataset_name
    data = folder / plans.configuration(configuration).data_identifier
    return fold_case_ids(folder, data, fold)


def _reference(
    request: ComparisonRequest, raw: RawDataset, train_ids: list[str], val_ids: list[str]
) -> CaseFiles:
    """The adaptors' reference: ``--reference`` (a training case, not a target) or the first."""
    training = {case.identifier: case for case in raw.training_cases}
    chosen = request.reference_case or train_ids[0]
    if chosen not in training or chosen in val_ids:
        raise SamsegInputError(
            f"--reference: expected a training case of {raw.folder / 'imagesTr'} that is not a "
            f"validation case of the compared folds, found {chosen!r}"
        )
    return training[chosen]

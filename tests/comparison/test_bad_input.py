"""Bad input is a clear error before any training starts (nothing trained, nothing written)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from samseg.cli.compare import main
from samseg.comparison import ComparisonRequest, TrainingBudget
from samseg.comparison.runner import run_comparison
from samseg.errors import SamsegInputError
from samseg.paths import model_folder
from tests.comparison.conftest import CONFIGURATION, DATASET, tiny_request


def _request(report, **changes) -> ComparisonRequest:
    return tiny_request(report, **changes)


def _refused(compare_env, match: str, **changes) -> None:
    with pytest.raises(SamsegInputError, match=match):
        run_comparison(_request(compare_env["report"], **changes), show_progress=False)
    assert not compare_env["report"].exists()
    assert not compare_env["results"].exists()


def test_an_unknown_trainer_is_refused_with_the_list_of_trainers(compare_env):
    _refused(compare_env, r"-tr NoSuchTrainer.*Available trainers", trainers=("NoSuchTrainer",))


def test_an_interactive_trainer_is_refused(compare_env):
    _refused(compare_env, r"expected prompt-free trainers", trainers=("SAMInteractiveTrainer",))


def test_an_unknown_adaptor_is_refused(compare_env):
    _refused(compare_env, r"--adaptors: expected names of \['p2sam', 'persam'\]", adaptors=("x",))


@pytest.mark.parametrize("budget", [TrainingBudget(iterations=0), TrainingBudget(minutes=0)])
def test_a_zero_budget_is_refused(compare_env, budget):
    _refused(compare_env, "expected a positive number", budget=budget)


def test_mixed_plans_a_configuration_the_plans_lack(compare_env):
    _refused(compare_env, r"expected a configuration in .*found '2d_999'", configuration="2d_999")


def test_mixed_plans_trainers_of_another_backbone(compare_env):
    _refused(
        compare_env,
        r"mixed plans.*backbone vit_tiny, found \{'SAMDemoLiteMedSAMTrainer': 'litemedsam'\}",
        trainers=("TinyTrainer", "SAMDemoLiteMedSAMTrainer"),
    )


def test_mixed_plans_a_finished_run_made_with_other_plans(compare_env):
    plans_file = compare_env["preprocessed"] / DATASET / "samsegPlans.json"
    plans = json.loads(plans_file.read_text())
    plans["configurations"][CONFIGURATION]["batch_size"] += 1
    folder = model_folder(DATASET, "TinyTrainer_2it", "samsegPlans", CONFIGURATION)
    folder.mkdir(parents=True)
    (folder / "plans.json").write_text(json.dumps(plans))
    with pytest.raises(SamsegInputError, match="mixed plans: expected the plans samsegPlans"):
        run_comparison(_request(compare_env["report"]), show_progress=False)
    assert not compare_env["report"].exists()


def test_an_unknown_baseline_is_refused(compare_env):
    _refused(compare_env, r"--baseline: expected one of", baseline="persam")


def test_the_command_exits_2_with_one_error_line_before_training(compare_env, capsys):
    argv = ["-d", DATASET, "-c", CONFIGURATION, "-tr", "TinyTrainer", "--iterations", "0"]
    with pytest.raises(SystemExit) as stop:
        main([*argv, "-o", str(compare_env["report"])])
    assert stop.value.code == 2
    assert capsys.readouterr().err.startswith("error: --iterations: expected a positive number")
    assert not compare_env["results"].exists()


def test_the_command_help_imports_nothing_heavy():
    probe = "import sys, samseg.cli.compare as c; c.build_parser(); print('torch' in sys.modules)"
    found = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert found.stdout.strip() == "False", found.stderr

"""A whole comparison on the tiny dataset (stages in process): the report's files and numbers,
and a comparison killed after training continues without retraining."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from samseg.comparison import ComparisonRequest, compare
from samseg.comparison.stage import InProcessStages, SubprocessStages
from samseg.comparison.state import STATE_FILE
from samseg.errors import SamsegInputError
from samseg.paths import model_folder
from tests.comparison.conftest import CONFIGURATION, DATASET, TEST_CASES, tiny_request


class _KilledError(Exception):
    """Stands in for the kill of a comparison."""


class _CountingStages(InProcessStages):
    """In-process stages that remember their commands and can die at a chosen command."""

    def __init__(self, die_at: str | None = None) -> None:
        self.commands: list[list[str]] = []
        self.die_at = die_at

    def __call__(self, command, environment, log_file):
        if command[0] == self.die_at:
            raise _KilledError(command[0])
        self.commands.append(list(command))
        return super().__call__(command, environment, log_file)


def _request(report: Path) -> ComparisonRequest:
    return tiny_request(report, disable_tta=True, bootstrap_samples=200, overlay_cases=1)


def test_a_killed_comparison_continues_without_retraining_and_writes_the_report(compare_env):
    report = compare_env["report"]
    with pytest.raises(_KilledError):
        compare(_request(report), stages=_CountingStages(die_at="samseg_predict"))
    fold = model_folder(DATASET, "TinyTrainer_2it", "samsegPlans", CONFIGURATION) / "fold_0"
    final = fold / "checkpoint_final.pth"
    trained = final.stat().st_mtime_ns
    assert "train/TinyTrainer_2it/fold_0" in json.loads((report / STATE_FILE).read_text())["stages"]

    stages = _CountingStages()
    markdown = compare(_request(report), stages=stages, show_progress=False)
    assert final.stat().st_mtime_ns == trained
    assert [command[0] for command in stages.commands] == ["samseg_predict", "samseg_adapt"]

    data = json.loads((report / "report.json").read_text())
    assert data["protocol"] == "test" and data["cases"] == sorted(TEST_CASES)
    assert data["baseline"] == "TinyTrainer"
    trainer, adaptor = data["methods"]["TinyTrainer"], data["methods"]["p2sam"]
    summary = json.loads((report / "evaluation" / "p2sam" / "test.json").read_text())
    box = [case["metrics"]["1"]["Dice"] for case in summary["metric_per_case"]]
    assert adaptor["metrics"]["box"]["Dice"]["mean"] == pytest.approx(np.mean(box))
    interval = adaptor["metrics"]["overall"]["Dice"]
    assert interval["ci_low"] <= interval["mean"] <= interval["ci_high"]
    paired = adaptor["paired_vs_baseline"]["overall"]["Dice"]
    assert paired["mean"] == pytest.approx(
        interval["mean"] - trainer["metrics"]["overall"]["Dice"]["mean"]
    )
    assert 0 <= paired["wilcoxon_p"] <= 1
    assert trainer["trainable_parameters"] > 0 and adaptor["trainable_parameters"] == 0
    assert trainer["training_seconds"] > 0 and trainer["prediction_seconds_per_slice"] > 0
    assert trainer["commands"][0]["command"][:5] == [
        "samseg_train",
        DATASET,
        CONFIGURATION,
        "0",
        "-tr",
    ]
    assert "SAMSEG_extTrainer" in trainer["commands"][0]["environment"]
    assert data["versions"]["torch"] and data["versions"]["scipy"]
    overall_table = markdown.read_text().split("## Overall")[1].split("\n## ")[0]
    row = next(line for line in overall_table.splitlines() if line.startswith("| p2sam |"))
    expected = f"{interval['mean']:.3f} [{interval['ci_low']:.3f}, {interval['ci_high']:.3f}]"
    assert row.split(" | ")[1] == expected
    for name in ("dice_per_class.png", "dice_vs_training_time.png", data["overlays"][0]):
        assert (report / name).read_bytes()[:4] == b"\x89PNG"

    again = _CountingStages()
    compare(_request(report), stages=again, show_progress=False)
    assert again.commands == []

    elsewhere = _CountingStages()  # another comparison reuses the finished run of that budget
    other = replace(_request(compare_env["report"].with_name("other")), adaptors=())
    compare(other, stages=elsewhere, show_progress=False)
    assert [command[0] for command in elsewhere.commands] == ["samseg_predict"]
    assert final.stat().st_mtime_ns == trained


def test_a_report_folder_of_other_settings_is_refused(compare_env):
    report = compare_env["report"]
    report.mkdir()
    state = {"settings": {"dataset": "other"}, "stages": {}}
    (report / STATE_FILE).write_text(json.dumps(state))
    with pytest.raises(SamsegInputError, match="found one of other settings"):
        compare(_request(report), stages=_CountingStages(), show_progress=False)


def test_a_stage_in_a_child_process_is_measured_and_a_failed_one_names_its_log(tmp_path):
    record = SubprocessStages()(["samseg_train", "--help"], {}, tmp_path / "help.txt")
    assert record.command == ("samseg_train", "--help")
    assert record.seconds >= 0 and record.peak_rss_mib > 0
    assert "usage: samseg_train" in (tmp_path / "help.txt").read_text()
    broken = {"PYTHONHOME": str(tmp_path / "no_python")}  # the child dies at start-up
    with pytest.raises(SamsegInputError, match=r"bad\.txt: expected samseg_train to finish"):
        SubprocessStages()(["samseg_train", "--help"], broken, tmp_path / "bad.txt")

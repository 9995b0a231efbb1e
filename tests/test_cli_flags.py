"""Flag spelling: every samseg flag is declared with underscores and accepted with hyphens."""

from __future__ import annotations

import importlib

import pytest

from samseg.cli.arguments import underscored
from tests.test_cli_imports import CLI_MODULES

SAME_COMMANDS = {
    "adapt": "-ref_image r.nii.gz -ref_label l.nii.gz -i x -o y -d 1 -c 2d_256 --sam_checkpoint "
    "--prompt_type box --positive_parts 1 3 --negative_parts 0 2 --save_prompts",
    "train": "Toy 2d_64 0 --num_gpus 2 --sam_checkpoint=none --model_type vit_tiny",
    "evaluate": "-ref a -pred b -l 1 2 --file_ending .nii.gz --nsd_tolerance 1.5 "
    "--synapse_protocol --allow_missing",
    "evaluate_prompts": "-i x -ref y -o z -d 1 -c 2d_256 --sam_checkpoint none --model_type "
    "litemedsam --clicks 5 --multimask_single_point --no_mask_prompt -num_threads 1",
    "make_demo_dataset": "--num_train 3 --num_test 1 --dataset_id 5 --output_root out",
    "convert_transunet": "in --keep_normalized --dataset_id 9",
    "predict": "-i x -o y -m z --save_probabilities --continue_prediction --disable_tta "
    "-num_parts 2 -part_id 1 -step_size 0.25",
    "plan_and_preprocess": "-d 1 --no_pp --verify_dataset_integrity -gpu_memory_target 8",
}


def parser_of(name: str):
    return importlib.import_module(f"samseg.cli.{name}").build_parser()


@pytest.mark.parametrize("name", sorted(SAME_COMMANDS))
def test_hyphen_and_underscore_spellings_parse_to_the_same_values(name):
    underscore = SAME_COMMANDS[name].split()
    hyphen = [t.replace("_", "-") if t.startswith("-") else t for t in underscore]
    assert hyphen != underscore
    parser = parser_of(name)
    parsed = parser.parse_args(underscore)
    assert parser.parse_args(hyphen) == parsed


@pytest.mark.parametrize("name", CLI_MODULES)
def test_help_shows_only_the_underscore_spelling(name):
    parser = parser_of(name)
    flags = [flag for action in parser._actions for flag in action.option_strings]
    assert [flag for flag in flags if "-" in flag.lstrip("-")] == []
    assert "--num-gpus" not in parser.format_usage()


def test_values_and_everything_after_a_double_dash_are_left_alone():
    known = ["--sam_checkpoint", "-num_parts", "--name"]
    tokens = ["--sam-checkpoint", "my-file", "--name=a-b", "-num-parts", "-1", "--", "--x-y"]
    assert underscored(tokens, known) == [
        "--sam_checkpoint",
        "my-file",
        "--name=a-b",
        "-num_parts",
        "-1",
        "--",
        "--x-y",
    ]
    assert underscored(["--sam-checkpoint=a-b"], known) == ["--sam_checkpoint=a-b"]
    assert underscored(["--unknown-flag"], known) == ["--unknown-flag"]

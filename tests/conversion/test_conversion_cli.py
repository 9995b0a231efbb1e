"""The three conversion commands: argument parsing, output, errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import SimpleITK as sitk

from samseg.cli import convert_btcv, convert_transunet, make_demo_dataset


def test_make_demo_dataset_cli_defaults_to_raw_root(
    roots: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    make_demo_dataset.main(["--num-train", "2", "--num-test", "1", "--seed", "3"])
    folder = roots["raw"] / "Dataset001_Demo"
    assert (folder / "dataset.json").is_file()
    assert f"{folder}: 2 training and 1 test cases" in capsys.readouterr().out


def test_convert_btcv_cli(btcv, tmp_path: Path, capsys) -> None:
    convert_btcv.main([str(btcv.folder), "-o", str(tmp_path / "out"), "--dataset-id", "5"])
    out = capsys.readouterr().out
    assert "Dataset005_Synapse: 2 training and 1 test cases" in out
    assert "missing from the input: case 2" in out


def test_convert_btcv_cli_bad_input_exits_2(tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        convert_btcv.main([str(tmp_path), "-o", str(tmp_path / "out")])
    assert exit_info.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_convert_transunet_cli(transunet, tmp_path: Path, capsys) -> None:
    convert_transunet.main(
        [
            str(transunet.folder),
            "-o",
            str(tmp_path / "out"),
            "--spacing",
            "3",
            "0.8",
            "0.8",
            "--keep-normalized",
            "--name",
            "SynapseNorm",
        ]
    )
    image = sitk.ReadImage(
        str(tmp_path / "out/Dataset002_SynapseNorm/imagesTr/synapse_0005_0000.nii.gz")
    )
    assert image.GetSpacing() == pytest.approx((0.8, 0.8, 3.0))
    assert "2 training and 1 test cases" in capsys.readouterr().out

"""samseg_convert_image_folder: images/ + masks/ photo folders -> PNG raw dataset."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

from samseg.cli.convert_image_folder import main
from samseg.conversion.image_folder import convert_image_folder
from samseg.conversion.image_pairs import pair_images_and_masks
from samseg.dataset import DatasetDescription
from samseg.errors import SamsegInputError

KVASIR = Path("/work/shared/data/kvasir_seg")
SIZE = (12, 16)


def write_pair(images: Path, masks: Path, stem: str, *, mask_name: str | None = None, seed=0):
    """A random RGB JPEG photo and a JPEG mask whose object (a box) is noisy around 255."""
    rng = np.random.default_rng(seed)
    images.mkdir(exist_ok=True)
    masks.mkdir(exist_ok=True)
    photo = rng.integers(0, 256, (*SIZE, 3), dtype=np.uint8)
    iio.imwrite(images / f"{stem}.jpg", photo)
    mask = np.zeros(SIZE, np.uint8)
    mask[2:8, 3:11] = 255
    iio.imwrite(masks / (mask_name or f"{stem}.jpg"), mask)
    return photo, mask


@pytest.fixture
def kvasir_like(tmp_path):
    """Three photos with JPEG masks of the same names."""
    images, masks = tmp_path / "images", tmp_path / "masks"
    for seed, stem in enumerate(("b-2", "a 1", "c3")):
        write_pair(images, masks, stem, seed=seed)
    return images, masks


def test_photos_and_jpeg_masks_become_png_cases(kvasir_like, tmp_path):
    images, masks = kvasir_like
    options = {"dataset_id": 7, "name": "Polyps", "label_name": "polyp", "progress": False}
    report = convert_image_folder(images, masks, tmp_path / "raw", **options)
    folder = tmp_path / "raw" / "Dataset007_Polyps"
    assert report.dataset_folder == folder and report.num_training == 3
    names = sorted(p.name for p in (folder / "imagesTr").iterdir())
    assert names == ["a_1_0000.png", "b-2_0000.png", "c3_0000.png"]
    stored = iio.imread(folder / "imagesTr" / "a_1_0000.png")
    np.testing.assert_array_equal(stored, iio.imread(images / "a 1.jpg"))
    label = iio.imread(folder / "labelsTr" / "a_1.png")
    jpeg_mask = iio.imread(masks / "a 1.jpg")
    assert label.ndim == 2 and set(np.unique(label)) == {0, 1}
    np.testing.assert_array_equal(label, jpeg_mask >= 128)
    description = DatasetDescription.load(folder / "dataset.json")
    assert description.channel_names == ("R", "G", "B")
    assert description.labels.names == {"background": 0, "polyp": 1}
    assert (description.file_ending, description.num_training) == (".png", 3)
    case = description.list_cases(folder / "imagesTr", folder / "labelsTr")[2]
    assert case.identifier == "c3"
    assert description.image_reader_writer().read_images(case.images)[0].shape == (3, 1, *SIZE)


def test_mask_suffix_is_detected_and_zero_one_masks_are_kept(tmp_path):
    images, masks = tmp_path / "images", tmp_path / "masks"
    for seed, stem in enumerate(("ISIC_001", "ISIC_002")):
        write_pair(images, masks, stem, mask_name=f"{stem}_segmentation.png", seed=seed)
    iio.imwrite(masks / "ISIC_002_segmentation.png", np.eye(*SIZE, dtype=np.uint8))
    pairs = pair_images_and_masks(images, masks)
    assert [(p.case, p.mask.name) for p in pairs] == [
        ("ISIC_001", "ISIC_001_segmentation.png"),
        ("ISIC_002", "ISIC_002_segmentation.png"),
    ]
    convert_image_folder(images, masks, tmp_path, dataset_id=8, name="Isic", progress=False)
    label = iio.imread(tmp_path / "Dataset008_Isic" / "labelsTr" / "ISIC_002.png")
    np.testing.assert_array_equal(label, np.eye(*SIZE))


def test_missing_and_extra_masks_are_errors_naming_the_file(kvasir_like):
    images, masks = kvasir_like
    (masks / "c3.jpg").rename(masks / "c4.jpg")
    with pytest.raises(SamsegInputError, match=r"c3\.jpg: expected its mask .*c3\.<png"):
        pair_images_and_masks(images, masks)
    iio.imwrite(masks / "c3.png", np.zeros(SIZE, np.uint8))
    with pytest.raises(SamsegInputError, match=r"c4\.jpg: expected an image named like this mask"):
        pair_images_and_masks(images, masks)


def test_colliding_case_names_are_an_error(kvasir_like):
    images, masks = kvasir_like
    write_pair(images, masks, "a_1")
    with pytest.raises(SamsegInputError, match=r"expected a case name of its own, found 'a_1'"):
        pair_images_and_masks(images, masks)


def test_a_mask_of_another_size_leaves_no_dataset(kvasir_like, tmp_path):
    images, masks = kvasir_like
    iio.imwrite(masks / "c3.jpg", np.zeros((5, 5), np.uint8))
    with pytest.raises(SamsegInputError, match=r"c3\.jpg: expected the size of its image"):
        convert_image_folder(images, masks, tmp_path / "raw", dataset_id=7, name="P")
    assert list((tmp_path / "raw").iterdir()) == []


def test_an_existing_dataset_or_id_is_never_overwritten(kvasir_like, tmp_path):
    images, masks = kvasir_like
    raw = tmp_path / "raw"
    (raw / "Dataset007_Other").mkdir(parents=True)
    (raw / "Dataset007_Other" / "keep.txt").write_text("mine")
    expected = {
        "Other": r"Dataset007_Other: expected no dataset folder there",
        "Polyps": r"Dataset007_Polyps: expected dataset id 007 to be free, found .*_Other",
    }
    for name, message in expected.items():
        with pytest.raises(SamsegInputError, match=message):
            convert_image_folder(images, masks, raw, dataset_id=7, name=name, progress=False)
    assert [p.name for p in raw.iterdir()] == ["Dataset007_Other"]
    assert (raw / "Dataset007_Other" / "keep.txt").read_text() == "mine"


def test_test_split_by_fraction_and_by_list(kvasir_like, tmp_path):
    images, masks = kvasir_like
    drawn = []
    for dataset_id in (1, 2):
        split = {"test_fraction": 0.34, "seed": 3, "progress": False}
        convert_image_folder(images, masks, tmp_path, dataset_id=dataset_id, name="F", **split)
        folder = tmp_path / f"Dataset00{dataset_id}_F"
        drawn.append(sorted(p.name for p in (folder / "imagesTs").iterdir()))
        assert len(list((folder / "labelsTs").iterdir())) == 1
        assert json.loads((folder / "dataset.json").read_text())["numTraining"] == 2
    assert drawn[0] == drawn[1] and len(drawn[0]) == 1
    listing = tmp_path / "test.txt"
    listing.write_text("a 1\nc3\n")
    report = convert_image_folder(
        images, masks, tmp_path, dataset_id=3, name="L", test_list=listing, progress=False
    )
    assert (report.num_training, report.num_test) == (1, 2)
    assert (tmp_path / "Dataset003_L" / "labelsTs" / "a_1.png").is_file()
    listing.write_text("nope\n")
    with pytest.raises(SamsegInputError, match=r"test\.txt: expected names of images.*'nope'"):
        convert_image_folder(images, masks, tmp_path, dataset_id=4, name="L", test_list=listing)


def test_cli_converts_and_bad_input_exits_2(kvasir_like, tmp_path, capsys):
    images, masks = kvasir_like
    main(
        [
            *(str(images), str(masks), "-d", "9", "-n", "Cli", "-o", str(tmp_path)),
            *("--mask-threshold", "200", "--label-name", "polyp"),
        ]
    )
    assert "3 training and 0 test cases" in capsys.readouterr().out
    recorded = json.loads((tmp_path / "Dataset009_Cli" / "dataset.json").read_text())
    assert recorded["samseg_conversion"]["mask_threshold"] == 200
    with pytest.raises(SystemExit) as exit_info:
        main([str(images), str(tmp_path / "nowhere"), "-d", "10", "-n", "X", "-o", str(tmp_path)])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and "nowhere: expected a folder of masks" in error


def test_cli_help_imports_nothing_heavy():
    code = (
        "import sys\nfrom samseg.cli.convert_image_folder import build_parser\n"
        "build_parser().format_help()\n"
        "print([m for m in ('numpy', 'imageio', 'tqdm', 'SimpleITK') if m in sys.modules])"
    )
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "[]"


def test_real_data_kvasir_subset_converts_and_plans(tmp_path, monkeypatch):
    if not KVASIR.is_dir():
        pytest.skip(f"{KVASIR} is absent")
    from samseg.planning.workflow import plan_and_preprocess
    from samseg.plans import Plans

    images, masks = tmp_path / "images", tmp_path / "masks"
    images.mkdir()
    masks.mkdir()
    for path in sorted((KVASIR / "images").iterdir())[:6]:
        (images / path.name).symlink_to(path)
        (masks / path.name).symlink_to(KVASIR / "masks" / path.name)
    raw = tmp_path / "raw"
    options = {"label_name": "polyp", "test_fraction": 0.34, "progress": False}
    report = convert_image_folder(images, masks, raw, dataset_id=31, name="Kvasir", **options)
    assert (report.num_training, report.num_test) == (4, 2)
    for name in ("raw", "preprocessed"):
        monkeypatch.setenv(f"SAMSEG_{name}", str(tmp_path / name))
    plan_and_preprocess("Dataset031_Kvasir", num_processes=1, preprocess=False)
    plans = Plans.load(tmp_path / "preprocessed" / "Dataset031_Kvasir" / "samsegPlans.json")
    assert plans.image_reader_writer == "NaturalImage2DIO"
    assert plans.slice_axis == 0 and plans.target_spacing == (999.0, 1.0, 1.0)
    assert plans.median_shape_after_resampling[0] == 1
    assert {n.scheme for n in plans.normalization} == {"RGBNormalization"}
    assert len(plans.normalization) == 3

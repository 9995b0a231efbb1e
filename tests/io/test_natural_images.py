"""2D photos: NaturalImage2DIO, photo datasets' case listing, planning's photo normalization."""

from __future__ import annotations

import imageio.v3 as iio
import numpy as np
import pytest
from PIL import Image

from samseg.dataset import CaseFiles, DatasetDescription, LabelScheme
from samseg.errors import SamsegInputError
from samseg.inference.inputs import find_cases
from samseg.io import NaturalImage2DIO, reader_writer_for
from samseg.io.natural_image import PHOTO_GEOMETRY
from samseg.planning.fingerprint import fingerprint_case
from samseg.planning.planner import SliceSAMPlanner
from samseg.plans import ChannelNormalization
from samseg.preprocessing.normalization import normalization_for


@pytest.fixture
def rgb() -> np.ndarray:
    """A (height, width, 3) uint8 photo with distinct channels, 0 and 255 included."""
    pixels = np.random.default_rng(0).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    pixels[0, 0], pixels[0, 1] = (0, 0, 0), (255, 255, 255)
    return pixels


def _description(channels, ending) -> DatasetDescription:
    return DatasetDescription(
        channel_names=tuple(channels),
        labels=LabelScheme(names={"background": 0, "polyp": 1}),
        file_ending=ending,
        num_training=1,
    )


def test_rgb_photo_is_one_slice_with_three_channels(tmp_path, rgb):
    iio.imwrite(tmp_path / "a_0000.png", rgb)
    images, geometry = NaturalImage2DIO().read_images([tmp_path / "a_0000.png"])
    assert images.shape == (3, 1, 5, 7) and images.dtype == np.float32
    np.testing.assert_array_equal(images[:, 0], rgb.transpose(2, 0, 1))
    assert geometry.spacing == (999.0, 1.0, 1.0) and geometry.dimension == 2


def test_grayscale_photo_is_one_channel(tmp_path, rgb):
    iio.imwrite(tmp_path / "g.png", rgb[:, :, 1])
    images, _ = NaturalImage2DIO().read_images([tmp_path / "g.png"])
    assert images.shape == (1, 1, 5, 7)
    np.testing.assert_array_equal(images[0, 0], rgb[:, :, 1])


def test_several_files_add_their_channels_and_must_have_one_size(tmp_path, rgb):
    iio.imwrite(tmp_path / "a_0000.png", rgb[:, :, 0])
    iio.imwrite(tmp_path / "a_0001.png", rgb)
    images, _ = NaturalImage2DIO().read_images([tmp_path / "a_0000.png", tmp_path / "a_0001.png"])
    np.testing.assert_array_equal(images[:, 0], rgb.transpose(2, 0, 1)[[0, 0, 1, 2]])
    iio.imwrite(tmp_path / "a_0002.png", rgb[:4])
    with pytest.raises(SamsegInputError, match=r"a_0002\.png: expected the size \(5, 7\)"):
        NaturalImage2DIO().read_images([tmp_path / "a_0000.png", tmp_path / "a_0002.png"])


def test_opaque_rgba_is_rgb_and_transparent_rgba_an_error(tmp_path, rgb):
    alpha = np.full((5, 7, 1), 255, np.uint8)
    iio.imwrite(tmp_path / "opaque.png", np.concatenate([rgb, alpha], axis=2))
    images, _ = NaturalImage2DIO().read_images([tmp_path / "opaque.png"])
    np.testing.assert_array_equal(images[:, 0], rgb.transpose(2, 0, 1))
    alpha[0, 0] = 10
    iio.imwrite(tmp_path / "clear.png", np.concatenate([rgb, alpha], axis=2))
    with pytest.raises(SamsegInputError, match=r"clear\.png: expected an opaque photo"):
        NaturalImage2DIO().read_images([tmp_path / "clear.png"])


def test_label_png_round_trips_and_palette_png_gives_indices(tmp_path):
    labels = np.array([[0, 1, 2], [2, 1, 0]], np.uint8)
    io = NaturalImage2DIO()
    io.write_segmentation(labels[None], tmp_path / "seg.png", PHOTO_GEOMETRY)
    assert iio.imread(tmp_path / "seg.png").dtype == np.uint8
    read, geometry = io.read_segmentation(tmp_path / "seg.png")
    assert read.shape == (1, 1, 2, 3) and geometry.matches(PHOTO_GEOMETRY)
    np.testing.assert_array_equal(read[0, 0], labels)
    palette = Image.fromarray(labels).convert("P")
    palette.putpalette([0, 0, 0, 200, 10, 10, 10, 200, 10] + [0] * 759)
    palette.save(tmp_path / "palette.png")
    np.testing.assert_array_equal(io.read_segmentation(tmp_path / "palette.png")[0][0, 0], labels)


def test_rgb_label_is_an_error_naming_the_file(tmp_path, rgb):
    iio.imwrite(tmp_path / "label.png", rgb)
    with pytest.raises(SamsegInputError, match=r"label\.png: expected a single-channel .*RGB"):
        NaturalImage2DIO().read_segmentation(tmp_path / "label.png")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not a png", "expected a readable PNG, JPEG or BMP photo"),
        (None, "expected a photo file, found no such file"),
        ("uint16", "expected an 8-bit photo"),
    ],
)
def test_bad_photos_are_errors_naming_the_file(tmp_path, content, message):
    path = tmp_path / "bad_0000.png"
    if content == "uint16":
        iio.imwrite(path, np.full((4, 4), 300, np.uint16))
    elif content is not None:
        path.write_bytes(content)
    with pytest.raises(SamsegInputError, match=rf"bad_0000\.png: {message}"):
        NaturalImage2DIO().read_images([path])


def test_segmentations_are_never_written_as_jpeg_nor_above_255(tmp_path):
    io = NaturalImage2DIO()
    with pytest.raises(SamsegInputError, match=r"seg\.jpg: expected a lossless photo format"):
        io.write_segmentation(np.zeros((1, 2, 2), np.uint8), tmp_path / "seg.jpg", PHOTO_GEOMETRY)
    with pytest.raises(SamsegInputError, match="expected values 0-255"):
        io.write_segmentation(np.full((1, 2, 2), 300), tmp_path / "seg.png", PHOTO_GEOMETRY)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["a.png", "a.jpg", "a.JPEG", "a.bmp"])
def test_photo_endings_choose_the_photo_reader(name):
    assert isinstance(reader_writer_for(name), NaturalImage2DIO)


def test_a_photo_case_is_one_file_holding_all_channels(tmp_path, rgb):
    images, labels = tmp_path / "imagesTr", tmp_path / "labelsTr"
    images.mkdir()
    labels.mkdir()
    iio.imwrite(images / "polyp1_0000.png", rgb)
    iio.imwrite(labels / "polyp1.png", np.zeros((5, 7), np.uint8))
    description = _description(("R", "G", "B"), ".png")
    (case,) = description.list_cases(images, labels)
    assert case.images == (images / "polyp1_0000.png",)
    assert find_cases([images / "polyp1_0000.png"], description) == {
        "polyp1": [images / "polyp1_0000.png"]
    }


def test_fingerprint_refuses_a_grayscale_photo_in_an_rgb_dataset(tmp_path, rgb):
    iio.imwrite(tmp_path / "gray_0000.png", rgb[:, :, 0])
    iio.imwrite(tmp_path / "gray.png", np.zeros((5, 7), np.uint8))
    description = _description(("R", "G", "B"), ".png")
    case = CaseFiles("gray", (tmp_path / "gray_0000.png",), tmp_path / "gray.png")
    with pytest.raises(SamsegInputError, match=r"gray_0000\.png: expected the 3 channels"):
        fingerprint_case(case, description, 10, (0,))


@pytest.mark.parametrize(
    ("channels", "ending", "scheme"),
    [
        (("R", "G", "B"), ".png", "RGBNormalization"),
        (("gray",), ".jpg", "RGBNormalization"),
        (("R", "G", "B"), ".nii.gz", "RGBNormalization"),
        (("rgb_to_0_1",), ".nii.gz", "RGBNormalization"),
        (("T2",), ".nii.gz", "ZScoreNormalization"),
    ],
)
def test_the_planner_keeps_photo_channels_in_0_255(channels, ending, scheme):
    planner = SliceSAMPlanner("Dataset001_P", _description(channels, ending), {})
    planned = planner.normalization(0, channels[0])
    assert planned.scheme == scheme
    if scheme == "RGBNormalization":
        assert (planned.low, planned.high) == (0.0, 255.0)


@pytest.mark.parametrize("name", ["RGBNormalization", "RGBTo01Normalization"])
def test_rgb_normalization_keeps_values_without_clipping_or_statistics(name):
    image = np.array([[[0.0, 17.0, 255.0, 260.0]]], np.float32)
    scheme = normalization_for(ChannelNormalization(name, 0.0, 255.0))
    np.testing.assert_array_equal(scheme(image.copy(), None), image)

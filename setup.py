"""samseg: Segment Anything for medical volumes, in nnU-Net's folder layout."""

from pathlib import Path

from setuptools import find_packages, setup

CONSOLE_SCRIPTS = {
    "samseg_adapt": "samseg.cli.adapt:main",
    "samseg_compare": "samseg.cli.compare:main",
    "samseg_plan_and_preprocess": "samseg.cli.plan_and_preprocess:main",
    "samseg_make_demo_dataset": "samseg.cli.make_demo_dataset:main",
    "samseg_convert_btcv": "samseg.cli.convert_btcv:main",
    "samseg_convert_transunet": "samseg.cli.convert_transunet:main",
    "samseg_convert_image_folder": "samseg.cli.convert_image_folder:main",
    "samseg_evaluate": "samseg.cli.evaluate:main",
    "samseg_evaluate_prompts": "samseg.cli.evaluate_prompts:main",
    "samseg_pgsam_embed_text": "samseg.cli.pgsam_embed_text:main",
    "samseg_predict": "samseg.cli.predict:main",
    "samseg_train": "samseg.cli.train:main",
}

setup(
    name="samseg",
    version="0.1.0",
    description="Segment Anything (SAM) fine-tuning and inference in nnU-Net's folder layout",
    long_description=Path(__file__).with_name("README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["samseg", "samseg.*"]),
    package_data={"samseg.models.pgsam": ["class_descriptions/*.json"]},
    install_requires=[
        "torch>=2.1",
        "numpy>=1.24",
        "scipy>=1.10",
        "SimpleITK>=2.2",
        "nibabel>=5.0",
        "blosc2>=2.5",
        "h5py>=3.8",
        "scikit-image>=0.21",
        "scikit-learn>=1.2",
        "acvl-utils>=0.2",
        "batchgenerators>=0.25",
        "segment-anything>=1.0",
        "peft>=0.10",
        "transformers>=4.40",
        "POT>=0.9",
        "matplotlib>=3.7",
        "tqdm>=4.60",
    ],
    extras_require={"test": ["pytest>=7", "ruff>=0.5", "medpy>=0.5", "pydicom>=2.4", "psutil"]},
    entry_points={
        "console_scripts": [f"{name}={target}" for name, target in CONSOLE_SCRIPTS.items()]
    },
)

"""Trainer lookup by class name: built-in, user folders and modules, errors, lazy imports."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from samseg.errors import SamsegConfigError, SamsegInputError
from samseg.training.registry import EXTENSION_ENV, available_trainers, trainer_class
from samseg.training.trainer import SAMTrainer

USER_TRAINER = '''
from samseg.training.trainers.lora import SAMLoRATrainer


class MyLabTrainer(SAMLoRATrainer):
    """Our lab's LoRA variant with 3 epochs.

    More text that is not part of the description.
    """

    num_epochs = 3


class NotATrainer:
    """A helper class."""
'''


def test_built_in_trainer_by_name():
    cls = trainer_class("SAMLoRATrainer", environ={})
    assert issubclass(cls, SAMTrainer)
    assert cls.freezing_policy == "lora"
    assert (cls.lora.rank, cls.lora.alpha, cls.lora.targets) == (4, 4, ("q", "v"))
    assert trainer_class("SAMFullFineTuneTrainer", environ={}).freezing_policy == "full"


def test_user_folder_trainer(tmp_path):
    (tmp_path / "lab_trainers.py").write_text(USER_TRAINER)
    environ = {EXTENSION_ENV: str(tmp_path)}
    entries = {entry.name: entry for entry in available_trainers(environ)}
    assert entries["MyLabTrainer"].description == "Our lab's LoRA variant with 3 epochs."
    assert "NotATrainer" not in entries
    cls = trainer_class("MyLabTrainer", environ)
    assert cls.num_epochs == 3 and cls.freezing_policy == "lora"


def test_dotted_module_path():
    environ = {EXTENSION_ENV: "tests.training.engine.trainers.tiny_trainers"}
    cls = trainer_class("TinyTrainer", environ)
    assert cls.model_type == "vit_tiny"


def test_unknown_name_lists_trainers_with_descriptions(tmp_path):
    (tmp_path / "lab_trainers.py").write_text(USER_TRAINER)
    with pytest.raises(SamsegInputError) as error:
        trainer_class("SAMLoRATrainr", {EXTENSION_ENV: str(tmp_path)})
    message = str(error.value)
    assert "SAMLoRATrainr" in message
    assert "SAMLoRATrainer  " in message and "SAMed: LoRA rank 4" in message
    assert "MyLabTrainer" in message and "Our lab's LoRA variant" in message
    assert "SAMFullFineTuneTrainer" in message


def test_bad_extension_entry():
    with pytest.raises(SamsegConfigError, match="no_such_module_or_folder"):
        trainer_class("SAMLoRATrainer", {EXTENSION_ENV: "no_such_module_or_folder"})


def test_only_the_defining_module_is_imported(tmp_path):
    (tmp_path / "lab_trainers.py").write_text(USER_TRAINER)
    (tmp_path / "broken_trainers.py").write_text(
        "raise RuntimeError('this module must not be imported')\n"
        "from samseg.training.trainer import SAMTrainer\n\n\n"
        "class BrokenTrainer(SAMTrainer):\n    '''Never imported.'''\n"
    )
    script = textwrap.dedent(
        f"""
        import sys
        from samseg.training.registry import trainer_class
        environ = {{"{EXTENSION_ENV}": {str(tmp_path)!r}}}
        trainer_class("SAMFullFineTuneTrainer", environ)
        trainer_class("MyLabTrainer", environ)
        loaded = sorted(m for m in sys.modules if m.startswith("samseg.training.trainers."))
        assert loaded == [
            "samseg.training.trainers.full_finetune",
            "samseg.training.trainers.lora",
        ], loaded
        assert not any("broken_trainers" in m for m in sys.modules)
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)

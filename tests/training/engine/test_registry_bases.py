"""Trainer lookup through sub-packages and through intermediate base classes that live in
modules the registry does not scan (found by parsing, imported only when chosen)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from samseg.training.registry import EXTENSION_ENV

BASES = '''
from samseg.training.trainers.lora import SAMLoRATrainer


class LabBaseTrainer(SAMLoRATrainer):
    """Our lab's base."""

    num_epochs = 4
'''
CORE = '''
from .bases import LabBaseTrainer as Base


class LabCoreTrainer(Base):
    """Between the base and the trainers."""
'''
USER = '''
from labpkg.core import LabCoreTrainer
from labpkg.helpers import NotATrainerBase


class LabTrainer(LabCoreTrainer):
    """A trainer whose bases are imported from elsewhere."""

    num_iterations_per_epoch = 7


class LabHelper(NotATrainerBase):
    """Not a trainer."""
'''


def write_tree(tmp_path) -> None:
    package = tmp_path / "site" / "labpkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "bases.py").write_text(BASES)
    (package / "core.py").write_text(CORE)
    (package / "helpers.py").write_text("class NotATrainerBase:\n    '''Helper.'''\n")
    (package / "unrelated.py").write_text("raise RuntimeError('must not be imported')\n")
    users = tmp_path / "users" / "nested"
    users.mkdir(parents=True)
    (users / "lab_trainers.py").write_text(USER)
    sub = tmp_path / "site" / "extpkg" / "sub"
    sub.mkdir(parents=True)
    (tmp_path / "site" / "extpkg" / "__init__.py").write_text("")
    (sub / "__init__.py").write_text("")
    (sub / "deep.py").write_text(
        "from samseg.training.trainer import SAMTrainer\n\n\n"
        "class DeepTrainer(SAMTrainer):\n    '''In a sub-package.'''\n"
    )


def test_bases_imported_from_unscanned_modules_and_sub_packages(tmp_path):
    write_tree(tmp_path)
    script = textwrap.dedent(
        f"""
        import os, sys
        sys.path.insert(0, {str(tmp_path / "site")!r})
        from samseg.training.registry import available_trainers, trainer_class
        environ = {{"{EXTENSION_ENV}": os.pathsep.join([{str(tmp_path / "users")!r}, "extpkg"])}}
        names = {{entry.name for entry in available_trainers(environ)}}
        assert {{"LabTrainer", "DeepTrainer"}} <= names, names
        assert "LabHelper" not in names and "LabCoreTrainer" not in names
        assert not any(m.startswith("labpkg") for m in sys.modules)
        cls = trainer_class("LabTrainer", environ)
        assert (cls.num_epochs, cls.num_iterations_per_epoch) == (4, 7)
        assert cls.freezing_policy == "lora"
        assert "labpkg.unrelated" not in sys.modules
        assert trainer_class("DeepTrainer", environ).__module__ == "extpkg.sub.deep"
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)

"""Every reader of checkpoint files refuses to unpickle objects (torch.load weights_only)."""

from __future__ import annotations

import ast
import os
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

import samseg
from samseg.errors import SamsegInputError
from samseg.inference.model_loading import load_trained_network
from samseg.models.checkpoint_io import read_checkpoint
from samseg.training.checkpoints import load_checkpoint

READERS: dict[str, Callable[[Path], object]] = {
    "training checkpoint": load_checkpoint,
    "trained network": load_trained_network,
    "SAM weights": read_checkpoint,
}


class CreatesAFolderWhenUnpickled:
    """Unpickling this object calls ``os.makedirs(marker)``: a visible side effect."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.makedirs, (str(self.marker),))


@pytest.mark.parametrize("reader", sorted(READERS))
def test_a_pickled_object_is_refused_and_never_run(tmp_path, reader):
    marker = tmp_path / "unpickled"
    path = tmp_path / "sent_by_someone.pth"
    content = {"network_weights": {"w": torch.zeros(1)}, "x": CreatesAFolderWhenUnpickled(marker)}
    torch.save(content, path)
    with pytest.raises(SamsegInputError, match=r"sent_by_someone\.pth.*weights_only"):
        READERS[reader](path)
    assert not marker.exists(), "the pickled object was executed"


def torch_load_calls(tree: ast.AST) -> list[ast.Call]:
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "load"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "torch"
    ]


def test_every_torch_load_in_samseg_passes_weights_only_true():
    root = Path(samseg.__file__).parent
    calls = {}
    for path in sorted(root.rglob("*.py")):
        for call in torch_load_calls(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            keywords = {k.arg: k.value for k in call.keywords}
            value = keywords.get("weights_only")
            safe = isinstance(value, ast.Constant) and value.value is True
            calls[f"{path.relative_to(root)}:{call.lineno}"] = safe
    assert calls, "expected torch.load calls in samseg"
    assert all(calls.values()), [where for where, safe in calls.items() if not safe]

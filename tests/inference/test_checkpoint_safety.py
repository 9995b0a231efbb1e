"""Every checkpoint reader refuses pickled objects with samseg's own one-line message."""

from __future__ import annotations

import pytest
import torch

from samseg.errors import SamsegInputError
from samseg.inference import load_trained_network
from samseg.models import read_checkpoint
from samseg.training.checkpoints import load_checkpoint

READERS = [load_trained_network, read_checkpoint, load_checkpoint]


class Unsafe:
    """A class whose instances weights-only loading must refuse."""


@pytest.mark.parametrize("reader", READERS, ids=lambda reader: reader.__name__)
def test_pickled_object_is_refused_in_one_line_naming_the_file(tmp_path, reader):
    path = tmp_path / "sent_by_someone.pth"
    torch.save({"network_weights": {}, "extra": Unsafe()}, path)
    with pytest.raises(SamsegInputError) as error:
        reader(path)
    message = str(error.value)
    assert message.startswith(f"{path}: refusing to unpickle ")
    assert "Unsafe" in message
    assert "\n" not in message
    assert "weights_only=False" not in message and "weights_only` set to `False" not in message


@pytest.mark.parametrize("reader", READERS, ids=lambda reader: reader.__name__)
def test_garbage_file_is_one_line_without_torch_advice(tmp_path, reader):
    path = tmp_path / "garbage.pth"
    path.write_bytes(b"garbage")
    with pytest.raises(SamsegInputError) as error:
        reader(path)
    message = str(error.value)
    assert message.startswith(f"{path}: expected ")
    assert "\n" not in message and "False" not in message

"""samseg_pgsam_embed_text writes the embeddings file the ``file`` text source reads."""

from __future__ import annotations

import pytest
import torch

from samseg.cli.pgsam_embed_text import main
from samseg.models.pgsam import ClassDescriptions, load_text_embeddings
from samseg.models.pgsam.clip_text import ClipTextEncoder


def test_embeds_the_descriptions_into_a_file_source(tiny_clip, tmp_path, capsys) -> None:
    output = tmp_path / "demo.pt"
    main(["-descriptions", "builtin:demo", "-clip", str(tiny_clip), "-o", str(output)])
    assert "5 classes x 16" in capsys.readouterr().out
    descriptions, embeddings, encoder_id = load_text_embeddings(output)
    expected = ClassDescriptions.load("builtin:demo")
    assert descriptions.names == expected.names
    assert descriptions.descriptions == expected.descriptions
    with torch.no_grad():
        direct = ClipTextEncoder(tiny_clip)(expected.descriptions)
    assert torch.allclose(embeddings, direct) and len(encoder_id) == 64


def test_a_missing_clip_folder_is_one_error_line(tmp_path, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["-descriptions", "builtin:demo", "-clip", str(tmp_path / "x"), "-o", "o.pt"])
    assert exit_info.value.code == 2
    assert "expected a folder with a CLIP" in capsys.readouterr().err

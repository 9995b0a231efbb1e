"""``samseg_pgsam_embed_text``: embed class descriptions once, for PG-SAM's ``file`` source.

On a machine with a CLIP checkpoint, this writes the (C, D) text embeddings that a training
machine without any text encoder then reads (``{"source": "file", "embeddings_file": ...}``,
documentation/pgsam.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from samseg.cli.arguments import SamsegArgumentParser
from samseg.cli.errors import run_command


def build_parser() -> SamsegArgumentParser:
    parser = SamsegArgumentParser(
        prog="samseg_pgsam_embed_text",
        description="Embed a class-description file with a local CLIP text model and write "
        "the embeddings file PG-SAM's 'file' text source reads.",
    )
    parser.add_argument(
        "-descriptions",
        required=True,
        help="class-description JSON file, or builtin:synapse / builtin:demo",
    )
    parser.add_argument(
        "-clip", required=True, type=Path, help="folder of a CLIP text model and its tokenizer"
    )
    parser.add_argument("-o", required=True, type=Path, help="embeddings file to write (.pt)")
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)

    def body() -> None:
        import torch

        from samseg.models.pgsam import ClassDescriptions, save_text_embeddings
        from samseg.models.pgsam.clip_text import ClipTextEncoder
        from samseg.models.pgsam.text_prior import cache_key

        descriptions = ClassDescriptions.load(args.descriptions)
        encoder = ClipTextEncoder(args.clip)
        with torch.no_grad():
            embeddings = encoder(descriptions.descriptions)
        identity = cache_key(encoder.identity(), descriptions)
        save_text_embeddings(args.o, descriptions, embeddings, identity)
        print(
            f"{args.o}: {descriptions.num_classes} classes x {encoder.embedding_dim} "
            f"({', '.join(descriptions.names)}), encoder {args.clip}"
        )

    run_command(body)


if __name__ == "__main__":
    main()

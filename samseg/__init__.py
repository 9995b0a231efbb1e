"""samseg: Segment Anything for medical volumes, in nnU-Net's folder layout."""

__version__ = "0.1.0"

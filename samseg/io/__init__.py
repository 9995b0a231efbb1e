"""Image readers and writers behind one interface (arrays are (channel, z, y, x))."""

from samseg.io.atomic import atomic_output, read_json, write_json
from samseg.io.base import ImageReaderWriter
from samseg.io.geometry import ImageGeometry
from samseg.io.natural_image import NaturalImage2DIO
from samseg.io.nibabel_io import NibabelIO
from samseg.io.registry import reader_writer_by_name, reader_writer_for
from samseg.io.simpleitk_io import SimpleITKIO

__all__ = [
    "ImageGeometry",
    "ImageReaderWriter",
    "NaturalImage2DIO",
    "NibabelIO",
    "SimpleITKIO",
    "atomic_output",
    "read_json",
    "reader_writer_by_name",
    "reader_writer_for",
    "write_json",
]

"""Read a GGUF file's header: its metadata and its tensors' names, shapes and types.

Only the header is read, never the weights: the file is memory-mapped and the
pages past the header are never touched, so a 40 GB model reads as fast as a
small one. The format (ggml's ``docs/gguf.md``): the magic ``GGUF``, a version,
the tensor and key counts, the key-value pairs, then each tensor's name, shape,
type and offset, then the aligned tensor data.

Why not the ``gguf`` package of the llama.cpp project: its ``GGUFReader`` builds
numpy views of every array item, and takes 2.0 s on the bundled 135M model
(49,152 tokens and as many merges) where this takes tens of milliseconds; and
importing it loads PyYAML and needs ``requests``. The tests check this reader
against files that ``gguf.GGUFWriter`` writes.
"""

from __future__ import annotations

import mmap
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from math import prod
from pathlib import Path

from rag.errors import ModelError

MAGIC = b"GGUF"
SUPPORTED_VERSIONS = (2, 3)
DEFAULT_ALIGNMENT = 32
# Arrays longer than this (the vocabulary, the merges) are skipped, not kept: only short
# ones (a model's languages, say) are worth showing, and keeping 150,000 tokens is slow.
MAX_ARRAY_KEPT = 256
# ggml tensors have at most 4 dimensions; more means a damaged header.
MAX_DIMENSIONS = 8

# GGUF value types: id -> struct format of a scalar (8 is a string, 9 an array).
_SCALARS = {
    0: "B",
    1: "b",
    2: "H",
    3: "h",
    4: "I",
    5: "i",
    6: "f",
    7: "?",
    10: "Q",
    11: "q",
    12: "d",
}
_STRING = 8
_ARRAY = 9
# What ``_Reader.value`` returns for an array it skipped.
_SKIPPED = object()

# ggml tensor types: id -> (name, elements per block, bytes per block), as ggml.h and
# gguf-py's GGML_QUANT_SIZES give them (the tests compare the two).
TENSOR_TYPES: dict[int, tuple[str, int, int]] = {
    0: ("F32", 1, 4),
    1: ("F16", 1, 2),
    2: ("Q4_0", 32, 18),
    3: ("Q4_1", 32, 20),
    6: ("Q5_0", 32, 22),
    7: ("Q5_1", 32, 24),
    8: ("Q8_0", 32, 34),
    9: ("Q8_1", 32, 40),
    10: ("Q2_K", 256, 84),
    11: ("Q3_K", 256, 110),
    12: ("Q4_K", 256, 144),
    13: ("Q5_K", 256, 176),
    14: ("Q6_K", 256, 210),
    15: ("Q8_K", 256, 292),
    16: ("IQ2_XXS", 256, 66),
    17: ("IQ2_XS", 256, 74),
    18: ("IQ3_XXS", 256, 98),
    19: ("IQ1_S", 256, 50),
    20: ("IQ4_NL", 32, 18),
    21: ("IQ3_S", 256, 110),
    22: ("IQ2_S", 256, 82),
    23: ("IQ4_XS", 256, 136),
    24: ("I8", 1, 1),
    25: ("I16", 1, 2),
    26: ("I32", 1, 4),
    27: ("I64", 1, 8),
    28: ("F64", 1, 8),
    29: ("IQ1_M", 256, 56),
    30: ("BF16", 1, 2),
    34: ("TQ1_0", 256, 54),
    35: ("TQ2_0", 256, 66),
    39: ("MXFP4", 32, 17),
    40: ("NVFP4", 64, 36),
    41: ("Q1_0", 128, 18),
}


@dataclass(frozen=True, slots=True)
class TensorInfo:
    name: str
    shape: tuple[int, ...]
    type_id: int
    offset: int  # from the start of the tensor data

    @property
    def elements(self) -> int:
        return prod(self.shape)

    @property
    def type_name(self) -> str:
        known = TENSOR_TYPES.get(self.type_id)
        return known[0] if known else f"type {self.type_id}"

    @property
    def size_bytes(self) -> int | None:
        """The tensor's data size; None for a type this table does not know."""
        known = TENSOR_TYPES.get(self.type_id)
        if known is None:
            return None
        _, block, block_bytes = known
        return self.elements // block * block_bytes


@dataclass(frozen=True, slots=True)
class GGUFHeader:
    """A GGUF file's metadata (long arrays left out) and tensor list."""

    version: int
    metadata: Mapping[str, object]
    tensors: tuple[TensorInfo, ...]
    data_offset: int  # where the tensor data starts in the file

    def data_end(self) -> int | None:
        """Where the last tensor's data ends; None if a tensor's type is unknown."""
        end = self.data_offset
        for tensor in self.tensors:
            size = tensor.size_bytes
            if size is None:
                return None
            end = max(end, self.data_offset + tensor.offset + size)
        return end


class _Damaged(Exception):
    """The header ends early or holds an impossible value."""


class _OldVersion(Exception):
    """A GGUF version this reader (and current llama.cpp) does not read."""


def read_gguf_header(path: Path) -> GGUFHeader:
    """The header of the GGUF file at ``path``; a ``ModelError`` names the file and what is
    wrong with it (missing, not GGUF, an unsupported version, damaged or cut short)."""
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise ModelError(f"{path} is not a file. Choose a GGUF model file.")
        with open(path, "rb") as handle:
            if handle.read(4) != MAGIC:
                raise ModelError(
                    f"{path} is not a GGUF model file (it does not start with 'GGUF'). "
                    "Download the model in GGUF format, or choose another file."
                )
            with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as view:
                header = _parse(view)
    except FileNotFoundError as exc:
        raise ModelError(f"The model file {path} does not exist.") from exc
    except OSError as exc:
        raise ModelError(f"The model file {path} cannot be read ({exc}).") from exc
    except _Damaged as exc:
        raise ModelError(
            f"The model file {path} is damaged ({exc}); download it again or choose another."
        ) from exc
    except _OldVersion as exc:
        raise ModelError(
            f"The model file {path} is in GGUF version {exc}, which llama.cpp no longer reads. "
            "Download the model again in a current GGUF file."
        ) from exc
    end = header.data_end()
    if end is not None and end > size:
        raise ModelError(
            f"The model file {path} is cut short: it holds {size:,} bytes, its tensors need "
            f"{end:,}. Download it again, or choose another file."
        )
    return header


def _parse(view: mmap.mmap) -> GGUFHeader:
    reader = _Reader(view)
    reader.offset = 4
    version = reader.integer("I")
    if version & 0xFFFF == 0:
        # A big-endian file read on a little-endian machine (or the reverse).
        reader.order = ">" if reader.order == "<" else "<"
        version = struct.unpack(reader.order + "I", struct.pack("<I", version))[0]
    if version == 1:
        raise _OldVersion(version)
    if version not in SUPPORTED_VERSIONS:
        raise _Damaged(f"its GGUF version would be {version}")
    tensor_count = reader.integer("Q")
    key_count = reader.integer("Q")
    metadata: dict[str, object] = {}
    for _ in range(key_count):
        key = reader.string()
        kind = reader.integer("I")
        value = reader.value(kind)
        if value is not _SKIPPED:
            metadata[key] = value
    tensors = []
    for _ in range(tensor_count):
        name = reader.string()
        dimensions = reader.integer("I")
        if dimensions > MAX_DIMENSIONS:
            raise _Damaged(f"tensor {name!r} has {dimensions} dimensions")
        shape = tuple(reader.integer("Q") for _ in range(dimensions))
        tensors.append(TensorInfo(name, shape, reader.integer("I"), reader.integer("Q")))
    alignment = metadata.get("general.alignment", DEFAULT_ALIGNMENT)
    if not isinstance(alignment, int) or alignment <= 0 or alignment & (alignment - 1):
        raise _Damaged(f"general.alignment is {alignment!r}, not a power of two")
    data_offset = -(-reader.offset // alignment) * alignment
    return GGUFHeader(version, metadata, tuple(tensors), data_offset)


class _Reader:
    """Reads little- (or big-) endian values from a memory map, checking every length."""

    def __init__(self, view: mmap.mmap) -> None:
        self.view = view
        self.size = len(view)
        self.offset = 0
        self.order = "<"

    def scalar(self, code: str) -> int | float | bool:
        fmt = self.order + code
        width = struct.calcsize(fmt)
        if self.offset + width > self.size:
            raise _Damaged("the header ends early")
        (value,) = struct.unpack_from(fmt, self.view, self.offset)
        self.offset += width
        return value

    def integer(self, code: str) -> int:
        """A count, length, type id or offset (an unsigned integer: "I" or "Q")."""
        return int(self.scalar(code))

    def string(self) -> str:
        length = self.integer("Q")
        if self.offset + length > self.size:
            raise _Damaged("the header ends early")
        raw = self.view[self.offset : self.offset + length]
        self.offset += length
        return raw.decode("utf-8", errors="replace")

    def skip_string(self) -> None:
        length = self.integer("Q")
        self.offset += length
        if self.offset > self.size:
            raise _Damaged("the header ends early")

    def value(self, kind: int) -> object:
        if kind in _SCALARS:
            return self.scalar(_SCALARS[kind])
        if kind == _STRING:
            return self.string()
        if kind != _ARRAY:
            raise _Damaged(f"unknown value type {kind}")
        item_kind = self.integer("I")
        count = self.integer("Q")
        if count > MAX_ARRAY_KEPT:
            self._skip_array(item_kind, count)
            return _SKIPPED
        return tuple(self.value(item_kind) for _ in range(count))

    def _skip_array(self, kind: int, count: int) -> None:
        if kind in _SCALARS:
            self.offset += struct.calcsize(self.order + _SCALARS[kind]) * count
            if self.offset > self.size:
                raise _Damaged("the header ends early")
        elif kind == _STRING:
            for _ in range(count):
                self.skip_string()
        else:
            for _ in range(count):
                self.value(kind)

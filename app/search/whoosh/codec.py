"""How Bridge writes Whoosh's files: the W3 format with posting blocks and positions packed for
reading whole blocks as arrays, and an index directory read without mmap.

Both changes stay readable by Whoosh itself, and indexes written by Whoosh's default codec read
the same (tested). Everything else is written as whoosh3 3.54.0 (pinned exactly) writes it.
"""
from __future__ import annotations

import pickle
import sys
from array import array

import numpy as np
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3Codec, W3PostingsWriter
from whoosh.filedb.filestore import FileStorage
from whoosh.formats import Positions
from whoosh.util.numeric import length_to_byte


class _PostingsWriter(W3PostingsWriter):
    """whoosh3's postings writer, each block pickled with protocol 5 instead of 2, and not
    compressed. Protocol 2 has no opcode for byte strings, so each posting's positions became a
    call to `codecs.encode` on a latin-1 text, which made unpickling a block ten times slower;
    zlib, which Whoosh applies by default, was as much again. Whoosh's reader unpickles any
    protocol, so segments written either way read alike."""

    def _write_block(self, last: bool = False) -> None:
        if not self._blockcount:
            self._postfile.write(WHOOSH3_HEADER_MAGIC)
        self._terminfo.add_block(self)
        data = pickle.dumps((self._mini_ids(), self._mini_weights(), self._mini_values()), 5)
        info = pickle.dumps((len(self._ids), self._ids[-1], self._maxweight, 0,
                             length_to_byte(self._minlength), length_to_byte(self._maxlength)), 5)
        length = len(info) + len(data)
        self._postfile.write_int(-length if last else length)  # negative: the term's last block
        self._postfile.write(info)
        self._postfile.write(data)
        self._blockcount += 1
        self._new_block()


class Codec(W3Codec):
    """Whoosh's W3 codec writing postings with `_PostingsWriter`."""

    def __init__(self):
        super().__init__(compression=0)

    def postings_writer(self, dbfile, byteids=False):
        return _PostingsWriter(dbfile, blocklimit=self._blocklimit, byteids=byteids, compression=0,
                               inlinelimit=self._inlinelimit)


WRITER_OPTIONS = {"codec": Codec()}


def storage(path: str) -> FileStorage:
    """The index directory, read without mmap. With mmap, Whoosh copies every part of a
    compound segment into memory each time a searcher opens, after every edit; without, the
    parts are read in place from the segment's one file, which stays open, so a merge deleting
    it meanwhile cannot pull files from under a searcher (separate, lazily opened segment files
    could, and did: 500s under load)."""
    return FileStorage(path, supports_mmap=False)


class PackedPositions(Positions):
    """Whoosh's positions format with each posting's positions packed as little-endian 32-bit
    integers instead of a pickled list of deltas: a block of postings then decodes as one
    array (`np.frombuffer` over the joined values), where pickled lists cost a Python object
    per position. The frequency is the value's length; Whoosh's own matchers decode through
    the same methods."""

    def encode(self, poslist) -> bytes:
        packed = array("I", poslist)
        if sys.byteorder == "big":
            packed.byteswap()
        return packed.tobytes()

    def decode_positions(self, valuestring: bytes) -> list[int]:
        return np.frombuffer(valuestring, dtype="<u4").tolist()

    def decode_frequency(self, valuestring: bytes) -> int:
        return len(valuestring) // 4

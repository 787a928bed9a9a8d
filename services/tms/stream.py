"""Reading an import file one record at a time.

An import document is ``{"section": [record, record, …], …}``. ``StreamedDocument`` walks that outer
shape itself and hands each record to the standard library's JSON decoder (``raw_decode``, with the
importer's strict hooks), so only one record is held at a time however long the file is. The file is
read in chunks and decoded incrementally as UTF-8.

Anything off the happy path — a syntax error, bytes that are not UTF-8, a UTF-16 file, an empty file,
a document that is not an object, a number too long, NaN — raises ``NotStreamable``: the caller then
reads the whole file the strict way, which names the problem exactly (line, column, hint). Only valid
JSON ever streams to the end, so the slow path costs memory only for files that are refused anyway.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

CHUNK = 1 << 20
_WHITESPACE = " \t\n\r"


class NotStreamable(Exception):
    """The file is not a well-formed JSON object; read it whole to say why."""


class StreamedDocument:
    """The sections of a JSON object read from ``stream`` (rewound at each ``sections()`` call)."""

    def __init__(self, stream: BinaryIO, make_decoder: Callable[[], json.JSONDecoder]) -> None:
        self._stream = stream
        self._make_decoder = make_decoder

    def sections(self) -> Iterator[tuple[str, Iterator[Any] | None, Any]]:
        """``(name, records, value)`` per top-level key, in file order: ``records`` iterates a list
        one record at a time (drain it before the next section), else ``records`` is ``None`` and
        ``value`` is the whole value."""
        reader = _Reader(self._stream, self._make_decoder())
        reader.expect("{")
        if reader.peek() == "}":
            reader.take()
        else:
            while True:
                if reader.peek() != '"':
                    raise NotStreamable
                name = reader.value()
                reader.expect(":")
                if reader.peek() == "[":
                    reader.take()
                    records = reader.records()
                    yield name, records, None
                    for _ in records:  # whatever the caller left unread
                        pass
                else:
                    yield name, None, reader.value()
                separator = reader.take()
                if separator == "}":
                    break
                if separator != ",":
                    raise NotStreamable
        if reader.peek() != "":
            raise NotStreamable  # extra data after the object


class _Reader:
    def __init__(self, stream: BinaryIO, decoder: json.JSONDecoder) -> None:
        stream.seek(0)
        self._stream = stream
        self._decoder = decoder
        self._utf8 = codecs.getincrementaldecoder("utf-8")()
        self._buffer = ""
        self._pos = 0
        self._eof = False
        start = stream.read(3)
        if start[:2] in (b"\xff\xfe", b"\xfe\xff"):
            raise NotStreamable  # UTF-16
        if start != b"\xef\xbb\xbf":
            self._feed(start)

    def _feed(self, raw: bytes) -> None:
        try:
            text = self._utf8.decode(raw, final=not raw)
        except UnicodeDecodeError:
            raise NotStreamable from None
        self._buffer = self._buffer[self._pos :] + text
        self._pos = 0

    def _more(self, size: int = CHUNK) -> bool:
        """Read more of the file; ``False`` at its end."""
        if self._eof:
            return False
        raw = self._stream.read(size)
        if not raw:
            self._eof = True
        self._feed(raw)
        return True

    def peek(self) -> str:
        """The next character that is not whitespace ('' at the end), not consumed."""
        while True:
            buffer, pos = self._buffer, self._pos
            while pos < len(buffer) and buffer[pos] in _WHITESPACE:
                pos += 1
            self._pos = pos
            if pos < len(buffer):
                return buffer[pos]
            if not self._more():
                return ""

    def take(self) -> str:
        char = self.peek()
        self._pos += len(char)
        return char

    def expect(self, char: str) -> None:
        if self.take() != char:
            raise NotStreamable

    def value(self) -> Any:
        """One JSON value at the current position (read further while it may be cut short)."""
        self.peek()
        size = CHUNK
        while True:
            try:
                value, end = self._decoder.raw_decode(self._buffer, self._pos)
            except json.JSONDecodeError:
                if self._more(size):
                    size *= 2
                    continue
                raise NotStreamable from None
            except (ValueError, RecursionError):  # NaN, a number too long, nested too deeply
                raise NotStreamable from None
            if end == len(self._buffer) and self._more(size):
                continue  # a number may go on in the next chunk
            self._pos = end
            return value

    def records(self) -> Iterator[Any]:
        """The values of the list whose ``[`` was just consumed, through its ``]``."""
        if self.peek() == "]":
            self.take()
            return
        while True:
            yield self.value()
            separator = self.take()
            if separator == "]":
                return
            if separator != ",":
                raise NotStreamable

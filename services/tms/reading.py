"""Reading an import's bytes: a private, seekable copy of a file or of standard input
(``open_source``), and the strict JSON decoding of imports (``parse_json``, ``strict_decoder``: UTF-8,
no NaN, no float amounts, no key twice in one object), each failure an ``ImportFileError`` saying where."""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO, NoReturn

from services.tms.problems import MAX_PROBLEMS_SHOWN, ImportFileError, ImportProblem


def open_source(path_or_dash: str | Path, stdin: BinaryIO | None = None) -> tuple[str, BinaryIO]:
    """The name to show and a private, seekable copy of a file, or of standard input for ``"-"``: the
    import reads it twice (check, then write), and a file edited in between must not change what is
    written after the check."""
    if str(path_or_dash) == "-":
        return "standard input", _private_copy(stdin if stdin is not None else sys.stdin.buffer)
    path = Path(path_or_dash)
    try:
        if path.is_dir():
            raise IsADirectoryError
        with path.open("rb") as original:
            return str(path), _private_copy(original)
    except FileNotFoundError:
        reason = "the file does not exist"
    except IsADirectoryError:
        reason = "it is a directory, not a file"
    except PermissionError:
        reason = "permission denied"
    except OSError as exc:
        reason = exc.strerror or str(exc)
    raise ImportFileError([ImportProblem("", None, reason)], str(path))


def _private_copy(source: BinaryIO) -> BinaryIO:
    spooled = tempfile.TemporaryFile()  # noqa: SIM115 (the caller closes it)
    shutil.copyfileobj(source, spooled)
    spooled.seek(0)
    return spooled  # type: ignore[return-value]


class _JsonConstantError(ValueError):
    pass


class _JsonNumberTooLong(ValueError):
    pass


def _parse_int(text: str) -> int:
    """A JSON integer; one longer than Python converts (4,300 digits by default) is refused as bad input."""
    digits = len(text.lstrip("-"))
    limit = sys.get_int_max_str_digits()
    if limit and digits > limit:
        raise _JsonNumberTooLong(f"a number has {digits:,} digits")
    return int(text)


def parse_json(raw: bytes, source: str = "import") -> Any:
    """Decode UTF-8 (a BOM is allowed) and parse JSON strictly: no NaN/Infinity, no key twice in an
    object. Raises ``ImportFileError`` saying where the problem is."""

    def fail(message: str) -> NoReturn:
        raise ImportFileError([ImportProblem("", None, message)], source)

    if not raw.removeprefix(b"\xef\xbb\xbf").strip():
        empty = {"standard input": "standard input is empty", "webhook": "the request's body is empty"}
        fail(empty.get(source, "the file is empty"))
    text = _decode(raw, fail)
    duplicates: list[str] = []
    try:
        data = strict_decoder(duplicates).decode(text)
    except json.JSONDecodeError as exc:
        fail(f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}")
    except _JsonConstantError as exc:
        fail(f'not valid JSON: {exc} is not a JSON value (write amounts as strings like "850.00")')
    except _JsonNumberTooLong as exc:
        fail(f'{exc}, too many to read (write amounts as strings like "850.00")')
    except RecursionError:
        fail("not valid JSON: nested too deeply")
    if duplicates:
        raise ImportFileError(duplicate_problems(duplicates), source)
    return data


def strict_decoder(duplicates: list[str]) -> json.JSONDecoder:
    """The JSON decoder of imports: amounts never become floats, no NaN/Infinity, no integer longer
    than Python reads, and the keys found twice in one object are added to ``duplicates``."""
    return json.JSONDecoder(
        parse_float=Decimal,
        parse_int=_parse_int,
        parse_constant=_refuse_constant,
        object_pairs_hook=lambda pairs: _unique_object(pairs, duplicates),
    )


def duplicate_problems(duplicates: Sequence[str]) -> list[ImportProblem]:
    return [ImportProblem("", None, f"an object has the key {key!r} more than once") for key in duplicates]


def _decode(raw: bytes, fail: Callable[[str], NoReturn]) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        fail("the file is UTF-16 text; save it as UTF-8")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        byte = raw[exc.start : exc.start + 1].hex()
        fail(f"the file is not UTF-8 text: byte 0x{byte} at line {line}, column {column}; save it as UTF-8")


def _refuse_constant(name: str) -> NoReturn:
    raise _JsonConstantError(name)


def _unique_object(pairs: list[tuple[str, Any]], duplicates: list[str]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result and len(duplicates) < MAX_PROBLEMS_SHOWN:
            duplicates.append(key)
        result[key] = value
    return result

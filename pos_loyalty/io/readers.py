"""Reading rows from csv, json and jsonl files, with problems reported as file, row and field."""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Callable, Iterator
from decimal import Decimal
from operator import itemgetter
from pathlib import Path

FORMATS = ("csv", "json", "jsonl")


class InputError(Exception):
    """A user's file is wrong: one clear line naming the file, row and field."""

    def __init__(self, path: str | Path, message: str, row: int | None = None, field: str | None = None):
        self.path, self.row, self.field = str(path), row, field
        where = [self.path]
        if row is not None:
            where.append(f"row {row}")
        if field:
            where.append(field)
        self.message = message
        super().__init__(": ".join(where + [message]))

    def __reduce__(self):
        # Rebuilt from its parts when it crosses from the parsing process (see parallel.py).
        return type(self), (self.path, self.message, self.row, self.field)


def guess_format(path: Path, given: str | None) -> str:
    if given:
        return given
    suffix = path.suffix.lower().lstrip(".")
    if suffix in FORMATS:
        return suffix
    if suffix == "ndjson":
        return "jsonl"
    return "csv"


def open_text(path: Path) -> io.TextIOBase:
    """Open a text file, UTF-8 (with or without BOM) or else Latin-1; refuse binary and empty files."""
    if not path.exists():
        raise InputError(path, "no such file")
    if path.is_dir():
        raise InputError(path, "is a folder, not a file")
    with path.open("rb") as raw:
        head = raw.read(65536)
    if not head.strip():
        raise InputError(path, "is empty")
    if b"\x00" in head:
        raise InputError(path, "is not a text file (it holds binary data)")
    encoding = "utf-8-sig" if _is_utf8(path) else "latin-1"
    return path.open("r", encoding=encoding, newline="")


def _is_utf8(path: Path, chunk: int = 1 << 20) -> bool:
    """Whether the whole file decodes as UTF-8: bytes decoded a megabyte at a time, not split into lines."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with path.open("rb") as raw:
            while block := raw.read(chunk):
                decoder.decode(block)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


Progress = Callable[[int, int], None]
"""Called now and then with (characters read, size of the file in bytes)."""


def counted(handle, path: Path, progress: Progress | None, every: int = 20000) -> Iterator[str]:
    """The file's lines, reporting how far through it we are every ``every`` lines."""
    if progress is None:
        yield from handle
        return
    size = path.stat().st_size
    done = 0
    for number, line in enumerate(handle, start=1):
        done += len(line)
        if number % every == 0:
            progress(min(done, size), size)
        yield line
    progress(size, size)


def read_rows(
    path: Path, fmt: str, columns: set[str], required: set[str], progress: Progress | None = None
) -> Iterator[tuple[int, dict]]:
    """Yield (row number, {column: text}) for each record.

    Cells are as written (CSV cells unstripped); read them through :func:`cell`, which strips
    them and turns empty ones into None, so columns nobody asks for cost nothing.
    """
    if fmt == "csv":
        yield from _csv_rows(path, columns, required, progress)
    elif fmt == "json":
        yield from _json_rows(path, columns, required)
    elif fmt == "jsonl":
        yield from _jsonl_rows(path, columns, required, progress)
    else:
        raise InputError(path, f"unknown format {fmt!r} (expected one of: {', '.join(FORMATS)})")


def read_cells(
    path: Path, fmt: str, columns: set[str], required: set[str], wanted: tuple[str, ...],
    progress: Progress | None = None, optional: int = 0,
) -> Iterator[tuple[int, tuple]]:
    """Yield (row number, cells) for each record, the cells in ``wanted``'s order.

    As :func:`read_rows`, without a dict per row: for files of a million rows. A cell is as
    written, or None or blank when the column is missing; strip it before use. Of the last
    ``optional`` columns wanted, those a CSV file lacks after the last it has are left off the
    end of each row's cells (a file of the common columns does not pay for the rare ones).
    """
    if fmt != "csv":
        for number, row in read_rows(path, fmt, columns, required, progress):
            yield number, tuple(map(row.get, wanted))
        return
    with open_text(path) as handle:
        reader = csv_reader(handle, path, progress)
        header = _csv_header(path, reader, columns, required)
        missing = len(header)  # a column the file lacks reads as the blank cell appended to each row
        places = [header.index(name) if name in header else missing for name in wanted]
        while optional and places[-1] == missing:
            places.pop()
            optional -= 1
        pick = itemgetter(*places) if len(places) > 1 else (lambda values: (values[places[0]],))
        for number, values in csv_values(path, reader, len(header)):
            values.append("")
            yield number, pick(values)


def _csv_rows(path: Path, columns: set[str], required: set[str], progress=None) -> Iterator[tuple[int, dict]]:
    with open_text(path) as handle:
        reader = csv_reader(handle, path, progress)
        header = _csv_header(path, reader, columns, required)
        for number, values in csv_values(path, reader, len(header)):
            yield number, dict(zip(header, values))


DELIMITERS = (",", ";", "\t")


def csv_reader(handle: io.TextIOBase, path: Path, progress: Progress | None = None):
    """A CSV reader with the delimiter the header row uses: the comma, or the semicolon that
    spreadsheets write where the comma is the decimal mark (Excel in Poland, Germany, France), or
    a tab. The one that occurs most in the header wins; the comma on a tie or a one-column file.

    The header is read apart, as bytes (the three delimiters are ASCII in every encoding read
    here): reading it through ``handle`` and seeking back cost 0.3 % of a 100,000-line import.
    """
    with path.open("rb") as raw:
        header = raw.readline(1 << 16)
    delimiter = max(DELIMITERS, key=lambda d: header.count(d.encode()))
    if not header.count(delimiter.encode()):
        delimiter = ","
    return csv.reader(counted(handle, path, progress), delimiter=delimiter)


def _csv_header(path: Path, reader, columns: set[str], required: set[str]) -> list[str]:
    try:
        header = next(reader)
    except StopIteration:
        raise InputError(path, "is empty") from None
    except csv.Error as exc:
        raise InputError(path, f"is not valid CSV: {exc}", 1) from None
    header = [h.strip() for h in header]
    _check_columns(path, header, columns, required, 1)
    return header


def expected_lines(path: Path, bytes_per_line: int = 100) -> int:
    """A rough, low guess of the rows in a file from its size (sales files run 50-90 bytes a row)."""
    try:
        return Path(path).stat().st_size // bytes_per_line
    except OSError:
        return 0


def csv_values(path: Path, reader, width: int) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of each data row; blank rows skipped, a row of the wrong width refused."""
    try:
        for values in reader:
            if len(values) != width:
                if not "".join(values).strip():
                    continue
                raise InputError(path, f"has {len(values)} fields, the header has {width}", reader.line_num)
            yield reader.line_num, values
    except csv.Error as exc:
        raise InputError(path, f"is not valid CSV: {exc}", reader.line_num) from None


def cell(row: dict, key: str) -> str | None:
    """A cell's text, stripped; None when it is missing or blank."""
    value = row.get(key)
    if value is None:
        return None
    value = value.strip()
    return value or None


def _check_columns(path: Path, header: list[str], columns: set[str], required: set[str], row: int | None) -> None:
    if len(set(header)) != len(header):
        raise InputError(path, "the header names a column twice", row)
    unknown = [h for h in header if h not in columns]
    if unknown:
        raise InputError(path, f"unknown column (expected: {', '.join(sorted(columns))})", row, unknown[0])
    missing = sorted(required - set(header))
    if missing:
        raise InputError(path, "column is missing", row, missing[0])


def _record(path: Path, row: int, obj, columns: set[str], required: set[str]) -> dict:
    if not isinstance(obj, dict):
        raise InputError(path, f"expected an object with fields, got {type(obj).__name__}", row)
    _check_columns(path, list(obj), columns, required, row)
    out = {}
    for key, value in obj.items():
        if value is None or value == "":
            out[key] = None
        elif isinstance(value, bool) or isinstance(value, (list, dict)):
            raise InputError(path, f"expected text or a number, got {json.dumps(value)[:30]}", row, key)
        else:
            out[key] = str(value).strip() or None
    return out


def _json_rows(path: Path, columns: set[str], required: set[str]) -> Iterator[tuple[int, dict]]:
    with open_text(path) as handle:
        try:
            data = json.load(handle, parse_float=Decimal)
        except json.JSONDecodeError as exc:
            raise InputError(path, f"is not valid JSON: {exc.msg} (line {exc.lineno})") from None
        except ValueError as exc:  # e.g. an integer longer than Python converts
            raise InputError(path, f"is not usable JSON: {exc}") from None
    if isinstance(data, dict) and len(data) == 1 and isinstance(next(iter(data.values())), list):
        data = next(iter(data.values()))
    if not isinstance(data, list):
        raise InputError(path, "expected a JSON list of objects")
    for index, obj in enumerate(data, start=1):
        yield index, _record(path, index, obj, columns, required)


def _jsonl_rows(path: Path, columns: set[str], required: set[str], progress=None) -> Iterator[tuple[int, dict]]:
    with open_text(path) as handle:
        for number, text in enumerate(counted(handle, path, progress), start=1):
            if not text.strip():
                continue
            try:
                obj = json.loads(text, parse_float=Decimal)
            except json.JSONDecodeError as exc:
                raise InputError(path, f"is not valid JSON: {exc.msg}", number) from None
            except ValueError as exc:
                raise InputError(path, f"is not usable JSON: {exc}", number) from None
            yield number, _record(path, number, obj, columns, required)

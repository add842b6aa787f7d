"""Batch data on any fsspec store: which files an input names, reading them, and writing outputs atomically.

An input is a file, a folder (every CSV or Parquet file under it, hive partitions such as ``date=2026-12-02/`` read
as columns) or a glob. A relative local path is read from the folder the run was started in. An output file is
written under a temporary name and moved into place, so a reader never sees half of it and a retry overwrites it
whole; on object stores, where an upload appears whole or not at all, it is uploaded in one piece.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import logging
import os
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import fsspec
import numpy as np

from ..errors import InvalidInputError, MissingDependencyError, NotFoundError
from .pipeline import EXTENSIONS

logger = logging.getLogger(__name__)


def pandas() -> Any:
    try:
        import pandas
    except ModuleNotFoundError as exc:
        raise MissingDependencyError("pandas", "batch", "batch scoring") from exc
    return pandas


def absolute(url: str, base_dir: str | None) -> str:
    """A local relative path made absolute against ``base_dir``; URLs with a protocol are left as they are."""
    if "://" in url or base_dir is None or os.path.isabs(url):
        return url
    return os.path.normpath(os.path.join(base_dir, url))


def resolve_files(url: str, fmt: str | None = None, allow_empty: bool = False) -> tuple[list[str], str, str]:
    """The files an input names, sorted, as (files, format, root). ``root`` is the folder partition values are read
    below (hive ``key=value`` folders). A folder that holds no data file, or a glob that matches none, is an error
    unless ``allow_empty`` (new files only, before any came; a step's output that it wrote nothing in): then there
    are no files, as long as the folder (a glob's, before its first wildcard) is there."""
    try:
        fs, path = fsspec.core.url_to_fs(url)
    except (ValueError, ImportError) as exc:
        raise InvalidInputError(f"cannot open the input {url!r}: {exc}") from exc
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    if any(c in path for c in "*?["):
        files = sorted(p for p in fs.glob(path) if fs.isfile(p))
        root = path.split("*")[0].rsplit("/", 1)[0]
    elif fs.isdir(path):
        files = sorted(p for p in fs.find(path) if not _hidden(p, path))
        if fmt is None:
            files = [p for p in files if _format_of(p) is not None]
        root = path.rstrip("/")
    elif fs.isfile(path):
        files, root = [path], path.rsplit("/", 1)[0]
    else:
        raise NotFoundError(f"the input {url!r} does not exist")
    prefix = "" if protocol in ("file", "local") else f"{protocol}://"
    if not files:
        if allow_empty and fs.isdir(root):  # a glob's folder must be there: a typo in it would find nothing for ever
            return [], fmt or "csv", prefix + root
        raise NotFoundError(f"the input {url!r} holds no CSV or Parquet files")
    formats = {fmt or _format_of(p) for p in files}
    if None in formats:
        unknown = next(p for p in files if _format_of(p) is None)
        raise InvalidInputError(
            f"cannot tell the format of {unknown!r} from its name: name it .csv or .parquet, or set format: on the step"
        )
    if len(formats) > 1:
        raise InvalidInputError(f"the input {url!r} mixes CSV and Parquet files: point it at one kind")
    return [prefix + p for p in files], formats.pop() or "csv", prefix + root


def _hidden(path: str, root: str) -> bool:
    relative = path[len(root.rstrip("/")) :].lstrip("/")
    return any(part.startswith((".", "_")) for part in relative.split("/"))


def _format_of(path: str) -> str | None:
    """``csv`` or ``parquet`` from a file's name; a CSV file may be compressed (``data.csv.gz``, ``.bz2``, ``.xz``)."""
    if compression_of(path) is not None:
        return "csv" if os.path.splitext(path[: path.rindex(".")])[1].lower() == ".csv" else None
    return EXTENSIONS.get(os.path.splitext(path)[1].lower())


def compression_of(path: str) -> str | None:
    """The compression a file's name says (``gzip`` for ``.gz``...), as fsspec reads it, or None."""
    compression: str | None = fsspec.utils.infer_compression(path)
    return compression


def stem_of(name: str) -> str:
    """A file's name without its format and compression suffixes: ``data.csv.gz`` -> ``data``."""
    if compression_of(name) is not None:
        name = name[: name.rindex(".")]
    root, extension = os.path.splitext(name)
    return root if extension else name


def _open(path: str, fmt: str) -> Any:
    """A file to read as ``fmt``; a compressed CSV file is read decompressed."""
    return fsspec.open(path, "rb", compression=compression_of(path) if fmt == "csv" else None)


COMPRESSION_RATIO = 5  # a compressed CSV file's data, counted as this many times its size (CSV compresses 3-10x)


def hive_values(path: str, root: str) -> dict[str, str]:
    """``key=value`` folders between ``root`` and the file."""
    relative = path[len(root.rstrip("/")) :].lstrip("/")
    values = {}
    for part in relative.split("/")[:-1]:
        key, sep, value = part.partition("=")
        if sep and key:
            values[key] = value
    return values


def read_files(
    files: Sequence[str],
    fmt: str,
    root: str,
    columns: Sequence[str] | None = None,
    part: Sequence[int] | None = None,
) -> Any:
    """The files as one DataFrame, in file order, with hive partition columns added from their folders.
    ``part``: only this part of the file (``parts_of``)."""
    pd = pandas()
    frames = []
    for path in files:
        if part is None:
            frame = read_file(path, fmt)
        else:
            frame = pd.concat(list(_file_frames(path, fmt, 2**62, part)), ignore_index=True)
        for key, value in hive_values(path, root).items():
            if key not in frame.columns:
                frame[key] = value
        frames.append(frame)
    data = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    if columns is not None:
        require_columns(data, columns)
    return data


def require_columns(data: Any, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in data.columns]
    if missing:
        has = ", ".join(map(str, data.columns))
        raise InvalidInputError(f"the input lacks column(s) {', '.join(map(repr, missing))}; it has: {has}")


def read_file(path: str, fmt: str) -> Any:
    pd = pandas()
    with _reading(path, fmt), _open(path, fmt) as f:
        if fmt == "csv":
            return pd.read_csv(f)
        return pd.read_parquet(f)


class _reading:
    """Errors of reading ``path`` as the errors a user can act on."""

    def __init__(self, path: str, fmt: str) -> None:
        self.path, self.fmt = path, fmt

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if isinstance(exc, FileNotFoundError):
            raise NotFoundError(f"the input file {self.path!r} no longer exists") from exc
        if isinstance(exc, (ValueError, UnicodeDecodeError)):  # pandas' parser errors are ValueErrors
            raise InvalidInputError(f"cannot read {self.path!r} as {self.fmt}: {exc}") from exc
        if isinstance(exc, ImportError):
            raise MissingDependencyError("pyarrow", "batch", "reading Parquet") from exc


def parts_of(path: str, fmt: str, rows: int) -> list[tuple[int, ...]]:
    """A file cut into consecutive parts of about ``rows`` rows, the parts a large file is scored in, each by a task
    of its own: a Parquet file's row groups (``row_group_parts``), a CSV file's byte ranges of whole rows
    (``csv_parts``)."""
    return row_group_parts(path, rows) if fmt == "parquet" else csv_parts(path, rows)


CSV_SCAN_BYTES = 16 * 2**20


def csv_parts(path: str, rows: int) -> list[tuple[int, ...]]:
    """A CSV file's rows cut into consecutive parts of ``rows`` rows (the last may hold fewer), as ``(header end,
    start, end)`` byte offsets: the file is read through once, and a row ends at a newline outside double quotes,
    so a quoted field may hold newlines. Blank lines, which pandas skips, are not rows. One part, maybe empty, when
    the file holds fewer rows. A double quote inside an unquoted field (``12" pipe``) leaves where rows end to
    guess, and is refused."""
    if compression_of(path) is not None:
        raise InvalidInputError(
            f"split_rows cannot cut {path!r}: it is compressed ({compression_of(path)}), so its rows cannot be read "
            "from the middle; decompress it, convert it to Parquet, or split it into several files"
        )
    cuts: list[int] = []
    header_end: int | None = None
    offset = records = last_end = 0  # records: the rows (the header is row 0) ended so far, last_end: where
    quoted = False  # whether the bytes read so far leave a quoted field open
    previous = ord("\n")  # the byte before this block: the file starts as a line does
    last_text = -1  # where the last byte that is not blank (space, tab, CR, LF) lies
    with _reading(path, "csv"), fsspec.open(path, "rb") as f:
        while block := f.read(CSV_SCAN_BYTES):
            data = np.frombuffer(block, dtype=np.uint8)
            quotes = np.flatnonzero(data == ord('"'))
            opening = quotes[(np.arange(len(quotes)) + quoted) % 2 == 0]
            before = np.where(opening > 0, data[np.maximum(opening - 1, 0)], previous)  # the byte before each
            at_start = opening + offset == (3 if block.startswith(b"\xef\xbb\xbf") and offset == 0 else 0)
            stray = opening[~np.isin(before, _QUOTE_MAY_FOLLOW) & ~at_start]  # a quote after a BOM opens the file
            if len(stray):
                raise InvalidInputError(
                    f"split_rows cannot cut {path!r}: byte {offset + int(stray[0])} is a double quote inside an "
                    "unquoted field, which leaves where its rows end to guess; convert it to Parquet, or split it "
                    "into several files"
                )
            newlines = np.flatnonzero(data == ord("\n"))
            open_before = (np.searchsorted(quotes, newlines) + quoted) % 2 == 1
            ends = newlines[~open_before] + offset + 1  # just after each record's newline
            starts = np.concatenate(([last_end], ends[:-1]))
            text = np.flatnonzero(~np.isin(data, _BLANK)) + offset
            # a line of spaces, tabs or nothing is blank to pandas: no text byte between its start and its newline
            blank = (np.searchsorted(text, ends - 1) == np.searchsorted(text, starts)) & (last_text < starts)
            numbers = records + np.cumsum(~blank) - 1  # of the rows that are not blank
            if header_end is None and (~blank).any():
                header_end = int(ends[~blank][0])
            cuts.extend(int(e) for e in ends[~blank & (numbers % rows == 0) & (numbers > 0)])
            records += int((~blank).sum())
            last_end = int(ends[-1]) if len(ends) else last_end
            last_text = int(text[-1]) if len(text) else last_text
            quoted ^= bool(len(quotes) % 2)
            previous = int(data[-1])
            offset += len(block)
    if header_end is None:  # a header without a newline, or nothing at all
        return [(offset, offset, offset)]
    bounds = [header_end, *(c for c in cuts if c < offset), offset]
    parts: list[tuple[int, ...]] = [(header_end, a, b) for a, b in itertools.pairwise(bounds) if b > a]
    return parts or [(header_end, header_end, header_end)]


_BLANK = np.array([ord(" "), ord("\t"), ord("\r"), ord("\n")], dtype=np.uint8)
_QUOTE_MAY_FOLLOW = np.array([ord(","), ord("\n"), ord("\r"), ord('"')], dtype=np.uint8)


class _CsvPart(io.RawIOBase):
    """A CSV file's header and one range of its rows, read as one file."""

    def __init__(self, f: Any, part: Sequence[int]) -> None:
        header_end, self._start, self._end = part
        f.seek(0)
        self._pending = f.read(header_end)
        f.seek(self._start)
        self._file, self._left = f, self._end - self._start

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if not self._pending and self._left > 0:
            self._pending = self._file.read(min(self._left, max(len(view), 2**20)))
            self._left -= len(self._pending)
        n = min(len(view), len(self._pending))
        view[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n


def row_group_parts(path: str, rows: int) -> list[tuple[int, ...]]:
    """A Parquet file's row groups, cut into consecutive parts of at least ``rows`` rows (the last may hold fewer):
    the parts a large file is scored in, each by a task of its own. One part, maybe of no row groups, when the file
    holds fewer rows."""
    with _reading(path, "parquet"), fsspec.open(path, "rb") as f:
        import pyarrow.parquet as pq

        metadata = pq.ParquetFile(f).metadata
    parts: list[tuple[int, ...]] = []
    current: list[int] = []
    held = 0
    for group in range(metadata.num_row_groups):
        current.append(group)
        held += metadata.row_group(group).num_rows
        if held >= rows:
            parts.append(tuple(current))
            current, held = [], 0
    if current or not parts:
        parts.append(tuple(current))
    return parts


def data_size(files: Sequence[str], fmt: str, part: Sequence[int] | None = None) -> int:
    """The bytes of the files' data: a CSV file's size; a Parquet file's data uncompressed, as its footer gives it
    (a Parquet file takes several times its size in memory); or of only a ``part`` of the file (``parts_of``)."""
    if part is not None and fmt == "csv":
        return part[2] - part[1]
    total = 0
    for path in files:
        if fmt != "parquet":
            local = _local_path(path)
            if local is not None:
                size = os.path.getsize(local)
            else:
                fs, inner = fsspec.core.url_to_fs(path)
                size = int(fs.size(inner))
            total += size * (COMPRESSION_RATIO if compression_of(path) is not None else 1)
            continue
        with _reading(path, fmt), fsspec.open(path, "rb") as f:
            import pyarrow.parquet as pq

            metadata = pq.ParquetFile(f).metadata
        groups = range(metadata.num_row_groups) if part is None else part
        total += sum(metadata.row_group(group).total_byte_size for group in groups)
    return total


def iter_frames(
    files: Sequence[str],
    fmt: str,
    root: str,
    rows: int,
    where: Mapping[str, Any] | None = None,
    part: Sequence[int] | None = None,
    dtypes: Mapping[str, Any] | None = None,
) -> Iterator[Any]:
    """The files' rows (those equal to ``where``, by column, when given) as DataFrames of ``rows`` rows each, the
    last one fewer, in file order and with hive partition columns added: what ``read_files`` gives, a piece at a
    time, so that a file of any size is read in bounded memory. The pieces come as pandas reads a piece: the types
    of a CSV's columns are inferred per piece (the caller checks they agree), and dictionary-encoded Parquet columns
    get the categories of the whole file, as ``pd.read_parquet`` gives them. ``part``: only this part of the file
    (``parts_of``); ``dtypes``: the types to read these columns as (a CSV's are parsed as them)."""
    pd = pandas()
    pending: list[Any] = []  # frames with rows only: an empty one would weigh in the types pd.concat gives
    held, yielded, empty = 0, False, None
    for path in files:
        hive = hive_values(path, root)
        for frame in _file_frames(path, fmt, rows, part, dtypes):
            for key, value in hive.items():
                if key not in frame.columns:
                    frame[key] = value
            if where:
                mask = np.ones(len(frame), dtype=bool)
                for column, value in where.items():
                    mask &= (frame[column] == value).to_numpy()
                frame = frame[mask].reset_index(drop=True)
            if len(frame) == 0:
                empty = frame if empty is None else empty
                continue
            pending.append(frame)
            held += len(frame)
            while held >= rows:
                joined = pending[0] if len(pending) == 1 else pd.concat(pending, ignore_index=True)
                yield joined.iloc[:rows].reset_index(drop=True)
                yielded = True
                rest = joined.iloc[rows:].reset_index(drop=True)
                pending, held = ([rest] if len(rest) else []), len(rest)
    if pending:
        yield pending[0] if len(pending) == 1 else pd.concat(pending, ignore_index=True)
    elif not yielded and empty is not None:  # the input's columns, where it has no rows
        yield empty


def _file_frames(
    path: str, fmt: str, rows: int, part: Sequence[int] | None = None, dtypes: Mapping[str, Any] | None = None
) -> Iterator[Any]:
    pd = pandas()
    with _reading(path, fmt), _open(path, fmt) as f:
        if fmt == "csv":
            source = f if part is None else _CsvPart(f, part)
            # floats and text are parsed as the type (the text of '007' kept); the rest (object: numbers and
            # booleans with text elsewhere) parsed as pandas infers them, then cast, as a whole read mixes them
            parsed = {n: d for n, d in (dtypes or {}).items() if _is_float(d) or isinstance(d, pd.StringDtype)}
            cast = {n: d for n, d in (dtypes or {}).items() if n not in parsed}
            with pd.read_csv(source, chunksize=rows, dtype=parsed or None) as reader:
                for frame in reader:
                    for name in frame.columns.intersection(list(cast)):
                        frame[name] = frame[name].astype(cast[name])
                    yield frame
            return
        import pyarrow as pa
        import pyarrow.parquet as pq

        source = pq.ParquetFile(f)
        schema = source.schema_arrow
        categorical = [name for name in schema.names if pa.types.is_dictionary(schema.field(name).type)]
        categories = {}
        if categorical:  # their codes only, a byte or two a row: per piece, each would get its own categories
            whole = _to_pandas(source.read(columns=categorical))
            categories = {name: whole[name].dtype for name in categorical}
        empty = True
        groups = None if part is None else list(part)
        for batch in source.iter_batches(batch_size=rows, row_groups=groups):
            empty = False
            frame = _to_pandas(pa.Table.from_batches([batch], schema=schema))
            for name, dtype in {**categories, **(dtypes or {})}.items():
                if name in frame.columns:
                    frame[name] = frame[name].astype(dtype)
            yield frame
        if empty:
            yield _to_pandas(schema.empty_table())


def _is_float(dtype: Any) -> bool:
    return isinstance(dtype, np.dtype) and dtype.kind == "f"


def _to_pandas(table: Any) -> Any:
    """An Arrow table as ``pd.read_parquet`` turns it into a DataFrame (pandas 3's string type included)."""
    try:
        from pandas.io._util import arrow_table_to_pandas
    except ImportError:  # pandas 2
        return table.to_pandas()
    return arrow_table_to_pandas(table)


def columns_of(frame: Any) -> dict[str, Any]:
    """A DataFrame as its columns, in order: numpy arrays where pandas has them, object arrays for strings (pandas
    3's Arrow-backed strings are slow to slice and to pickle, row groups of them most of all), and pandas' own
    arrays for the rest (datetimes with a time zone, categoricals, nullable integers), which keep their type."""
    pd = pandas()
    columns: dict[str, Any] = {}
    for name in frame.columns:
        series = frame[name]
        if isinstance(series.dtype, np.dtype):
            columns[name] = series.to_numpy()
        elif isinstance(series.dtype, pd.StringDtype):
            columns[name] = series.to_numpy(dtype=object)
        else:
            columns[name] = series.array
    return columns


def text_dtypes(frame: Any) -> dict[str, Any]:
    """The pandas string dtypes ``columns_of`` turned into object arrays, for ``frame_of`` to give back: a partition
    where a text column is all missing would otherwise come back untyped (and be written to Parquet as nulls)."""
    pd = pandas()
    return {name: frame[name].dtype for name in frame.columns if isinstance(frame[name].dtype, pd.StringDtype)}


def frame_of(columns: Mapping[str, Any], dtypes: Mapping[str, Any] | None = None) -> Any:
    frame = pandas().DataFrame(dict(columns))
    for name, dtype in (dtypes or {}).items():
        if name in frame.columns and frame[name].dtype != dtype:
            frame[name] = frame[name].astype(dtype)
    return frame


def partition_rows(data: Any, by: Sequence[str]) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
    """Each partition's values and rows (its columns, as ``columns_of`` gives them), in the order of
    ``data.groupby(by, sort=True, dropna=False)`` and with its rows in the input's order: one sort of the group
    numbers and a take per column, rather than a DataFrame per group (a thousand of them took most of a second)."""
    groups = data.groupby(list(by), sort=True, dropna=False)
    if groups.ngroups == 0:
        return []
    numbers = groups.ngroup().to_numpy()
    order = np.argsort(numbers, kind="stable")
    bounds = np.cumsum(np.bincount(numbers, minlength=groups.ngroups))[:-1]
    columns = columns_of(data)
    keys = groups.size().index
    out = []
    for values, rows in zip(keys, np.split(order, bounds), strict=True):
        out.append((values if isinstance(values, tuple) else (values,), {c: v[rows] for c, v in columns.items()}))
    return out


def concatenated(arrays: Sequence[Any]) -> Any:
    """Columns of the same name one after the other, as ``pd.concat`` joins them: one numpy array where they share
    a dtype, pandas' own array where it gives one (categoricals, dates with a time zone, nullable integers)."""
    if all(isinstance(a, np.ndarray) for a in arrays) and len({a.dtype for a in arrays}) == 1:
        return np.concatenate(arrays)
    pd = pandas()
    joined = pd.concat([pd.Series(a) for a in arrays], ignore_index=True)
    return joined.to_numpy() if isinstance(joined.dtype, np.dtype) else joined.array


def plain(value: Any) -> Any:
    """A partition value as JSON keeps it (numpy scalars to Python's)."""
    return value.item() if hasattr(value, "item") else value


def partition_key(partition: Mapping[str, Any]) -> str:
    """A partition's task key: ``Device=3/Tag=2``."""
    return "/".join(f"{c}={v}" for c, v in partition.items())


def write_columns(
    columns: Mapping[str, Any], url: str, fmt: str, sync: bool = True, dtypes: Mapping[str, Any] | None = None
) -> int:
    """Write columns (equal-length arrays, by name) atomically as CSV or Parquet; return the bytes written. The CSV
    is byte for byte what pandas' ``to_csv(index=False)`` writes, in a fifth of the time where the columns are
    numbers and plain strings (``csv_bytes``). ``dtypes``: as for ``frame_of``."""
    if fmt == "csv":
        data = csv_bytes(columns)
    else:
        buffer = io.BytesIO()
        try:
            frame_of(columns, dtypes).to_parquet(buffer, index=False)
        except ImportError as exc:
            raise MissingDependencyError("pyarrow", "batch", "writing Parquet") from exc
        data = buffer.getvalue()
    write_bytes(url, data, sync=sync)
    return len(data)


class SchemaChanged(ValueError):
    """A piece of a Parquet output whose types differ from the first piece's."""


class OutputFile:
    """An output written a piece at a time and put in place whole: in a temporary file beside it (on a local disk)
    or in a local spool file uploaded in one piece when done (elsewhere). Use it as a context manager: it is put in
    place when the block ends and thrown away if the block raises, so a reader never sees part of it. Its CSV is the
    CSV ``write_columns`` writes of all the pieces together, byte for byte; its Parquet holds a row group a piece."""

    def __init__(self, url: str, fmt: str, sync: bool = True) -> None:
        self.url, self.fmt, self.sync = url, fmt, sync
        self.bytes = 0
        self._local = _on_this_disk(url)
        if self._local is not None:
            parent = os.path.dirname(self._local)
            os.makedirs(parent, exist_ok=True)
            self._temporary = Path(parent) / _partial_name(self._local)
        else:
            self._temporary = Path(tempfile.mkdtemp(prefix="modelport-output-")) / Path(url).name
        self._parquet: Any = None
        self._pieces = 0
        try:
            self._file: Any = open(self._temporary, "wb")  # noqa: SIM115 (closed by close() or discard())
        except OSError:
            if self._local is None:
                shutil.rmtree(self._temporary.parent, ignore_errors=True)
            raise

    def write(self, columns: Mapping[str, Any], dtypes: Mapping[str, Any] | None = None) -> None:
        """Append rows (columns as ``write_columns`` takes them); every piece has the first one's columns."""
        if self.fmt == "csv":
            self._file.write(csv_bytes(columns, header=self._pieces == 0))
        else:
            self._write_parquet(frame_of(columns, dtypes))
        self._pieces += 1

    def _write_parquet(self, frame: Any) -> None:
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError as exc:
            raise MissingDependencyError("pyarrow", "batch", "writing Parquet") from exc
        table = pa.Table.from_pandas(frame, preserve_index=False)  # what DataFrame.to_parquet(index=False) writes
        if self._parquet is None:
            self._parquet = pq.ParquetWriter(self._file, table.schema)
        elif not table.schema.equals(self._parquet.schema, check_metadata=False):
            raise SchemaChanged(f"a piece of {self.url!r} came out in other Parquet types than the first one")
        self._parquet.write_table(table)

    def close(self) -> None:
        """Put the file in place, whole."""
        try:
            if self._parquet is not None:
                self._parquet.close()
                self._parquet = None
            if self.sync and self._local is not None:
                self._file.flush()
                os.fsync(self._file.fileno())
            self.bytes = self._file.tell()
            self._file.close()
            if self._local is not None:
                os.replace(self._temporary, self._local)
            else:
                fs, path = fsspec.core.url_to_fs(self.url)
                fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
                fs.put_file(str(self._temporary), path)
        finally:
            self.discard()

    def discard(self) -> None:
        """Throw away what was written (nothing, once ``close`` has put it in place)."""
        if self._parquet is not None:
            with contextlib.suppress(Exception):  # its footer, into a file thrown away
                self._parquet.close()
            self._parquet = None
        self._file.close()
        self._temporary.unlink(missing_ok=True)
        if self._local is None:
            shutil.rmtree(self._temporary.parent, ignore_errors=True)

    def __enter__(self) -> OutputFile:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if exc is None:
            self.close()
        else:
            self.discard()


_NEEDS_QUOTES = re.compile(r'[,"\r\n]')
_PLAIN = {str, int, float, bool, type(None)}  # in an object column: what csv_bytes formats as pandas would


def csv_bytes(columns: Mapping[str, Any], header: bool = True) -> bytes:
    """The columns as pandas' ``DataFrame.to_csv(index=False, header=header)`` writes them (UTF-8, ``\\n``, minimal
    quoting, missing values empty). Numbers, booleans and strings that need no quotes are formatted here, as pandas
    formats them (``str`` of ints, the shortest repr of floats); anything else (a value that needs quoting, a date,
    one column alone, whose empty fields the csv module quotes) goes through pandas itself."""
    names = [str(name) for name in columns]
    texts = [_csv_texts(values) for values in columns.values()]
    plain = len(names) > 1 and not any(_NEEDS_QUOTES.search(name) for name in names)
    if not plain or any(t is None for t in texts):
        return bytes(frame_of(columns).to_csv(index=False, header=header).encode())
    lines = [",".join(names)] if header else []
    lines += map(",".join, zip(*texts, strict=True))
    return ("\n".join(lines) + "\n").encode() if lines else b""


def _csv_texts(values: Any) -> list[str] | None:
    """One column's fields, or None where pandas must write it."""
    if not isinstance(values, np.ndarray) or values.ndim != 1:
        return None
    kind = values.dtype.kind
    if kind in "iubO" and len(values) > 1 and _constant(values):  # a partition's own columns: one value
        texts = _csv_texts(values[:1])
        return None if texts is None else texts * len(values)
    if kind in "iub":
        return _int_texts(values)
    if kind == "f":
        texts = list(map(repr, values.tolist())) if values.dtype.itemsize == 8 else values.astype(str).tolist()
        missing = np.isnan(values)
        if missing.any():
            texts = ["" if m else t for t, m in zip(texts, missing.tolist(), strict=True)]
        return texts
    if kind != "O":
        return None
    items = values.tolist()
    kinds = set(map(type, items))
    if kinds == {str}:
        texts = items
    elif kinds <= _PLAIN:
        texts = ["" if v is None or v != v else v if type(v) is str else str(v) for v in items]
    else:
        return None
    if _NEEDS_QUOTES.search("".join(texts)):
        return None
    return texts


def _int_texts(values: Any) -> list[str]:
    """``str`` of each integer (or boolean); a column of few distinct small values, as predictions mostly are, by
    looking each up in a table of their texts."""
    if len(values) > 64:
        low, high = int(values.min()), int(values.max())
        if high - low <= 4096:
            if values.dtype.kind == "b":
                table, offsets = np.array(["False", "True"], dtype=object), values.astype(np.intp)
            else:  # offsets from the lowest, computed where they cannot wrap around (int8 - int8 can)
                table = np.array([str(i) for i in range(low, high + 1)], dtype=object)
                wide = values.astype(np.uint64 if values.dtype.kind == "u" else np.int64)
                offsets = (wide - wide.min()).astype(np.intp)
            texts: list[str] = table[offsets].tolist()
            return texts
    return list(map(str, values.tolist()))


def _constant(values: Any) -> bool:
    first = values[0]
    if values.dtype.kind == "O" and type(first) is not str:
        return False
    return bool(values[-1] == first) and bool((values == first).all())


def write_bytes(url: str, data: bytes, sync: bool = True) -> None:
    """Write a file whole or not at all: a temporary name and a rename on a local disk, one upload elsewhere.
    ``sync``: flush it to the disk (fsync) before the rename, so that it survives a crash of the machine too; this
    costs about 10 ms a file on some disks, which for a thousand small files is most of a run."""
    path = _local_path(url)
    if path is None:
        fs, path = fsspec.core.url_to_fs(url)
        if not _is_this_disk(fs):
            fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
            fs.pipe_file(path, data)
            return
    parent = os.path.dirname(path)
    os.makedirs(parent, exist_ok=True)
    temporary = Path(parent) / _partial_name(path)
    try:
        with open(temporary, "wb") as f:
            f.write(data)
            if sync:
                f.flush()
                os.fsync(f.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


_PARTIAL = re.compile(r"^\..+\.[0-9a-f]{32}\.partial$")


def _partial_name(path: str) -> str:
    """The temporary name a file is written under before it is renamed into place: hidden, unique to the writer."""
    return f".{os.path.basename(path)}.{uuid.uuid4().hex}.partial"


def discard_partials(url: str, idle_s: float = 0.0) -> int:
    """Remove, under a folder on this machine's disk, the temporary files (``_partial_name``) of writers that were
    killed mid-write (a lost worker, a killed run), and return how many. Call it when nothing writes there any more,
    or give ``idle_s``: only files nobody has written to for that long go. Elsewhere there are none: a file there is
    put in one upload. A folder that cannot be read is logged and left as it is (cleaning is never a reason to
    fail)."""
    folder = _on_this_disk(url)
    if folder is None or not os.path.isdir(folder):
        return 0
    removed = 0
    before = time.time() - idle_s
    try:
        for parent, _, names in os.walk(folder):
            for name in names:
                path = os.path.join(parent, name)
                if _PARTIAL.match(name) and (idle_s <= 0 or os.stat(path).st_mtime < before):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(path)
                        removed += 1
    except OSError as exc:
        logger.warning("cannot remove the half-written outputs under %s: %s", url, exc)
    if removed:
        logger.info("removed %d half-written output(s) of killed writers under %s", removed, url)
    return removed


def _on_this_disk(url: str) -> str | None:
    """The local path of a plain path or a ``file:`` URL; None for anything on another store."""
    path = _local_path(url)
    if path is None:
        fs, path = fsspec.core.url_to_fs(url)
        if not _is_this_disk(fs):
            return None
    return path


def _is_this_disk(fs: Any) -> bool:
    return "file" in (fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,))


def _local_path(url: str) -> str | None:
    """A plain local path as an absolute one, as fsspec would make it (``~`` expanded), without fsspec's cost, a
    good part of writing a small file; None for anything else."""
    if "://" in url or "::" in url or url.startswith(("file:", "local:")):
        return None  # URLs, chained ones and file: forms are fsspec's to read, as everywhere else
    return os.path.abspath(os.path.expanduser(url))


def join(base: str, *parts: str) -> str:
    return "/".join([base.rstrip("/"), *(p.strip("/") for p in parts)])

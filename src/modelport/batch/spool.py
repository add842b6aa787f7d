"""A large partitioned input cut into its partitions a piece at a time, in memory that holds a piece.

Where a score step's input is larger than ``stream_above_mb``, the run does not read it whole to cut it: it reads a
piece at a time (``datasets.iter_frames``), cuts each piece into its partitions and writes them, pickled, one after
the other into a file of that piece in the run's own prefix (``spool/STEP/piece-00000.pickle``). Each task is sent
where its partition's rows lie in those files (``Spooled``) rather than the rows, and reads them itself. The tasks
get what a whole read would have given them: the same partitions in the same order, the same rows in the input's
order, the same column types (where a CSV parser infers a column's type differently from piece to piece, the input
is read again with each such column parsed as the type a whole read gives it, as scoring in pieces does).

The files are the run's own, read by its workers as the models are; the run removes them when the step ends.
"""

from __future__ import annotations

import functools
import logging
import pickle
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import fsspec

from . import datasets

logger = logging.getLogger(__name__)

Blob = tuple[str, int, int]  # (file, offset, length) of one partition's rows in one piece


@dataclass(frozen=True)
class Spooled:
    """The input cut into its partitions: each partition's values and where its rows lie, in the order of
    ``datasets.partition_rows`` of the whole input, and the dtypes of its text columns (``datasets.text_dtypes``)."""

    partitions: list[tuple[tuple[Any, ...], tuple[Blob, ...]]]
    dtypes: dict[str, Any]
    pieces: int
    rows: int


class _TypesChanged(Exception):
    pass


def cut(
    files: Sequence[str],
    fmt: str,
    root: str,
    by: Sequence[str],
    needed: Sequence[str],
    rows: int,
    folder: str,
    on_piece: Callable[[int], None] | None = None,
) -> Spooled:
    """Cut the input's files into the partitions of ``by``, ``rows`` rows a piece, into files under ``folder``;
    ``needed``: the columns the step reads, which the input must have; ``on_piece`` hears the rows cut so far after
    each piece (from 0 again if the input must be read a second time)."""
    from .tasks import widened_types

    attempt = functools.partial(_cut, files, fmt, root, by, needed, rows, folder, on_piece=on_piece)
    try:
        return attempt({})
    except _TypesChanged:
        pass
    read_as = widened_types(datasets.iter_frames(files, fmt, root, rows))
    changes = ", ".join(f"{name!r} to {dtype}" for name, dtype in read_as.items())
    logger.info("column types change between pieces of the input: reading it again with %s", changes)
    try:
        return attempt(read_as)
    except _TypesChanged:  # what read_as parses and casts cannot change again
        raise AssertionError("column types still changed between pieces with the whole read's types") from None


def _cut(
    files: Sequence[str],
    fmt: str,
    root: str,
    by: Sequence[str],
    needed: Sequence[str],
    rows: int,
    folder: str,
    read_as: Mapping[str, Any],
    on_piece: Callable[[int], None] | None = None,
) -> Spooled:
    pd = datasets.pandas()
    fs, base = fsspec.core.url_to_fs(folder)
    if fs.exists(base):  # a run retried: what an earlier cut left
        fs.rm(base, recursive=True)
    fs.makedirs(base, exist_ok=True)
    blobs: dict[str, list[Blob]] = {}
    keys: list[Any] = []  # each piece's distinct partition values
    types: dict[str, Any] | None = None
    dtypes: dict[str, Any] = {}
    empty: Blob = ("", 0, 0)
    pieces = total = 0
    for number, frame in enumerate(datasets.iter_frames(files, fmt, root, rows, dtypes=read_as)):
        if types is None:
            datasets.require_columns(frame, needed)
            types, dtypes = dict(frame.dtypes.items()), datasets.text_dtypes(frame)
        elif dict(frame.dtypes.items()) != types:
            raise _TypesChanged
        url = datasets.join(folder, f"piece-{number:05d}.pickle")
        offset = 0
        with fs.open(f"{base}/piece-{number:05d}.pickle", "wb") as f:
            if number == 0:  # the columns without rows: a category no row has (pandas 2 makes it a partition)
                data = pickle.dumps(datasets.columns_of(frame.iloc[:0]), protocol=5)
                f.write(data)
                empty, offset = (url, 0, len(data)), len(data)
            for values, columns in datasets.partition_rows(frame, by):
                data = pickle.dumps(columns, protocol=5)
                f.write(data)
                blobs.setdefault(_key(by, values), []).append((url, offset, len(data)))
                offset += len(data)
        keys.append(frame[list(by)].drop_duplicates())
        pieces += 1
        total += len(frame)
        if on_piece is not None:
            on_piece(total)
    partitions = []
    if keys and total:
        distinct = pd.concat(keys, ignore_index=True)
        for values in distinct.groupby(list(by), sort=True, dropna=False).size().index:
            values = values if isinstance(values, tuple) else (values,)
            partitions.append((values, tuple(blobs.get(_key(by, values), [empty]))))
    return Spooled(partitions, dtypes, pieces, total)


def _key(by: Sequence[str], values: Sequence[Any]) -> str:
    return datasets.partition_key({c: datasets.plain(v) for c, v in zip(by, values, strict=True)})


def read(blobs: Sequence[Blob]) -> dict[str, Any]:
    """A partition's rows, by column, as ``datasets.partition_rows`` of the whole input gives them: its rows of
    each piece, joined in the input's order."""
    parts: list[dict[str, Any]] = []
    for url, offset, length in blobs:  # a file a piece
        with fsspec.open(url, "rb") as f:
            f.seek(offset)
            parts.append(pickle.loads(f.read(length)))
    if len(parts) == 1:
        return parts[0]
    return {name: datasets.concatenated([p[name] for p in parts]) for name in parts[0]}


def remove(folder: str) -> None:
    """The step's cut input, once its tasks are done, and the folder of the run's cuts when it is left empty."""
    fs, base = fsspec.core.url_to_fs(folder)
    try:
        if fs.exists(base):
            fs.rm(base, recursive=True)
        parent = base.rsplit("/", 1)[0]
        if fs.isdir(parent) and not fs.ls(parent):
            fs.rmdir(parent)
    except OSError as exc:
        logger.warning("cannot remove the cut input %s: %s", folder, exc)

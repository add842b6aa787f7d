"""The content-addressed artifact store, on any fsspec filesystem.

A file's bytes live once, under ``blobs/sha256/<first two hex digits>/<sha256>``, however many model versions hold
it. A blob is uploaded to a temporary name and moved into place, so a reader never sees a partial blob. Reading
verifies the sha256 while copying, so a tampered or truncated blob is refused and never handed to a runtime.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import IntegrityError, InvalidInputError, NotFoundError

if TYPE_CHECKING:
    import fsspec

logger = logging.getLogger(__name__)

CHUNK = 1 << 20


def sha256_file(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


class ArtifactStore:
    def __init__(self, url: str, **storage_options: Any) -> None:
        import fsspec  # here, not above: a server whose files are all in the cache never opens a store

        try:
            fs, root = fsspec.core.url_to_fs(url, **storage_options)
        except (ValueError, ImportError) as exc:
            raise InvalidInputError(f"cannot open the artifact store {url!r}: {exc}") from exc
        self.url = url
        self.fs: fsspec.AbstractFileSystem = fs
        self.root = root.rstrip("/")

    def _blob_path(self, sha256: str) -> str:
        return f"{self.root}/blobs/sha256/{sha256[:2]}/{sha256}"

    def put_file(self, path: Path) -> tuple[str, int]:
        """Store a local file; return its sha256 and size. Storing the same content twice stores it once."""
        sha256, size = sha256_file(path)
        target = self._blob_path(sha256)
        if self.fs.exists(target):
            return sha256, size
        self.fs.makedirs(f"{self.root}/blobs/tmp", exist_ok=True)
        self.fs.makedirs(target.rsplit("/", 1)[0], exist_ok=True)
        temporary = f"{self.root}/blobs/tmp/{uuid.uuid4().hex}"
        self.fs.put_file(str(path), temporary)
        try:
            self.fs.mv(temporary, target)
        except Exception:
            self.fs.rm(temporary)
            raise
        return sha256, size

    def exists(self, sha256: str) -> bool:
        return bool(self.fs.exists(self._blob_path(sha256)))

    def copy_to(self, sha256: str, size: int, destination: Path, label: str) -> None:
        """Copy a blob to a local file, verifying its hash and size; the file appears only once verified."""
        source = self._blob_path(sha256)
        destination.parent.mkdir(parents=True, exist_ok=True)
        partial = destination.with_name(destination.name + f".{uuid.uuid4().hex}.partial")
        digest, written = hashlib.sha256(), 0
        try:
            with self.fs.open(source, "rb") as src, open(partial, "wb") as dst:
                for chunk in _chunks(src):
                    digest.update(chunk)
                    written += len(chunk)
                    dst.write(chunk)
        except FileNotFoundError as exc:
            partial.unlink(missing_ok=True)
            raise NotFoundError(f"artifact {label} (sha256 {sha256}) is missing from the store {self.url}") from exc
        if digest.hexdigest() != sha256 or written != size:
            partial.unlink(missing_ok=True)
            raise IntegrityError(
                f"artifact {label} failed verification: expected sha256 {sha256} and {size} bytes, found sha256 "
                f"{digest.hexdigest()} and {written} bytes in the store; it was tampered with or truncated, "
                "and was not loaded"
            )
        os.replace(partial, destination)

    def materialize(self, root: Path, files: Sequence[tuple[str, str, int, str]], label: str) -> None:
        """Make ``root`` a verified local copy of ``files`` (path under root, sha256, size, the file's name in
        messages) for ``label`` (what they are a copy of, in messages): kept when every file
        checks out, else fetched again into a temporary folder and renamed into place, so no reader sees a partial
        copy; when another process renames its copy first, that copy is used once it verifies."""

        def verified() -> bool:
            return all(
                (root / path).is_file() and sha256_file(root / path) == (sha256, size)
                for path, sha256, size, _ in files
            )

        if root.exists():
            if verified():
                return
            logger.warning("cached copy of %s failed verification; fetching it again", label)
            shutil.rmtree(root, ignore_errors=True)
        root.parent.mkdir(parents=True, exist_ok=True)
        partial = root.parent / f".{root.name}.{uuid.uuid4().hex}.partial"
        try:
            partial.mkdir(parents=True)
            for path, sha256, size, name in files:
                self.copy_to(sha256, size, partial / path, label=name)
            try:
                os.rename(partial, root)
            except OSError:
                if not (root.exists() and verified()):  # another process won the race
                    raise
        finally:
            shutil.rmtree(partial, ignore_errors=True)

    def delete(self, sha256: str) -> None:
        path = self._blob_path(sha256)
        if self.fs.exists(path):
            self.fs.rm(path)


def _chunks(stream: Any) -> Iterator[bytes]:
    while chunk := stream.read(CHUNK):
        yield chunk

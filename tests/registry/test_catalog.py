"""The read-only catalog that ``modelport serve`` reads a SQLite workspace through: it answers exactly as the
registry does, checks every file's sha256 on load as the registry does, hands over to the registry whenever it is
not sure, and does all that without importing SQLAlchemy."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from modelport import IntegrityError, NotFoundError, Workspace
from modelport.registry import ModelCatalog, db
from modelport.registry import catalog as catalog_module
from modelport.registry.catalog import sqlite_path
from tests.helpers import blob_of, flip_byte, write_tree

REFS = ["line", "line:1", "line:2", "line:3", "line@production", "line@staging", "line@latest", "scripted"]


@pytest.fixture
def home(tmp_path: Path, line_model: Any) -> Path:
    """A SQLite workspace holding three versions of ``line`` (tags, properties, samples, resources, options, two
    aliases) and a version with an entry script and a source folder."""
    home = tmp_path / "ws"
    with Workspace(home) as ws:
        ws.models.register("line", obj=line_model)
        ws.models.register(
            "line",
            obj=line_model,
            description="the second",
            tags={"team": "risk", "stage": ""},
            properties={"auc": 0.91, "nested": {"a": [1, 2]}},
            sample_input={"data": [[1.0]]},
            sample_output=[3.0],
            resources={"cpu": 0.5, "memory_gb": 1, "gpu": 0},
            runtime_options={"method": "predict", "max_batch_size": 8},
        )
        ws.models.register("line", obj=line_model)
        ws.models.set_alias("line", "production", 2)
        ws.models.set_alias("line", "staging", 2)
        source = write_tree(tmp_path / "src", {"score.py": "def init():\n    pass\ndef run(raw):\n    return raw\n"})
        write_tree(source / "lib", {"util.py": "X = 1\n"})
        ws.models.register("scripted", obj=line_model, entry_script="score.py", source_directory=source)
    return home


def test_its_schema_revision_is_the_registry_s() -> None:
    """A migration that changes the tables must look at the catalog's queries too."""
    assert catalog_module.READS_REVISION == db.SCHEMA_HEAD


@pytest.mark.parametrize("ref", REFS)
def test_it_finds_what_the_registry_finds(home: Path, ref: str) -> None:
    catalog = ModelCatalog.open(home)
    assert catalog is not None
    with Workspace(home) as ws:
        assert catalog.get(ref) == ws.models.get(ref)
    assert catalog._workspace is None  # answered alone, without opening the registry


@pytest.mark.parametrize("ref", ["nothing", "lines", "line:9", "line@canary", "line@prod"])
def test_a_reference_to_nothing_gets_the_registry_s_error(home: Path, ref: str) -> None:
    catalog = ModelCatalog.open(home)
    assert catalog is not None
    with Workspace(home) as ws, pytest.raises(NotFoundError) as expected:
        ws.models.get(ref)
    with pytest.raises(NotFoundError) as raised:
        catalog.get(ref)
    assert type(raised.value) is type(expected.value) and str(raised.value) == str(expected.value)
    catalog.close()


def test_it_loads_and_predicts_like_the_registry(home: Path) -> None:
    catalog = ModelCatalog.open(home)
    assert catalog is not None
    runtime = catalog.load("line@production")
    assert runtime.context.options == {"method": "predict", "max_batch_size": 8}
    assert np.allclose(runtime.predict({"data": [[1.0], [2.0]]}), [3.0, 5.0])
    scripted = catalog.load("scripted")
    assert scripted.context.code_dir is not None and (scripted.context.code_dir / "lib" / "util.py").is_file()
    assert catalog.path_of("line", 1).name == "model.joblib"


def test_it_refuses_a_tampered_file_as_the_registry_does(home: Path) -> None:
    with Workspace(home) as ws:
        version = ws.models.get("line:1")
        flip_byte(blob_of(ws, version, "model.joblib"))
    catalog = ModelCatalog.open(home)
    assert catalog is not None
    with pytest.raises(IntegrityError, match=r"line:1/model\.joblib failed verification"):
        catalog.load("line:1")


def test_a_tampered_cached_copy_is_fetched_again(home: Path) -> None:
    catalog = ModelCatalog.open(home)
    assert catalog is not None
    model_dir, _ = catalog.materialize(catalog.get("line:1"))
    flip_byte(model_dir / "model.joblib")
    assert np.allclose(catalog.load("line:1").predict({"data": [[0.0]]}), [1.0])


def test_another_schema_revision_is_left_to_the_registry(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(catalog_module, "READS_REVISION", "0000")
    catalog = ModelCatalog.open(home)
    assert catalog is not None
    with Workspace(home) as ws:
        assert catalog.get("line@production") == ws.models.get("line@production")
    assert catalog._workspace is not None
    catalog.close()


def test_a_new_workspace_is_created_by_the_registry(tmp_path: Path) -> None:
    catalog = ModelCatalog.open(tmp_path / "new")
    assert catalog is not None
    with pytest.raises(NotFoundError, match="no model named 'line'"):
        catalog.get("line")
    catalog.close()
    assert (tmp_path / "new" / "modelport.db").is_file()


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:////abs/meta.db", Path("/abs/meta.db")),
        ("sqlite:///relative.db", Path("relative.db")),
        ("sqlite://", None),
        ("sqlite:///:memory:", None),
        ("sqlite:///meta.db?timeout=5", None),
        ("postgresql://user@host/db", None),
    ],
)
def test_only_a_plain_sqlite_file_is_read_directly(url: str, path: Path | None) -> None:
    assert sqlite_path(url) == path


def test_another_database_opens_no_catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELPORT_DB_URL", "postgresql://user@127.0.0.1/nothing")
    assert ModelCatalog.open(tmp_path / "ws") is None


def test_it_finds_and_loads_without_sqlalchemy(home: Path) -> None:
    code = (
        "import sys\n"
        "from modelport.registry import ModelCatalog\n"
        f"catalog = ModelCatalog.open({str(home)!r})\n"
        "catalog.load('line@production')\n"
        "print(sorted({'sqlalchemy', 'alembic'} & set(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"

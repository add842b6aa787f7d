"""The top-level API is small and pinned: adding or removing a name is a deliberate change to this list."""

import modelport


def test_public_names_are_pinned() -> None:
    assert sorted(modelport.__all__) == [
        "ConflictError",
        "EnvironmentVersion",
        "IntegrityError",
        "InvalidInputError",
        "ModelVersion",
        "ModelportError",
        "NotFoundError",
        "Resources",
        "Runtime",
        "ScoringClient",
        "ScriptError",
        "Workspace",
        "__version__",
    ]
    for name in modelport.__all__:
        assert getattr(modelport, name) is not None


def test_importing_modelport_stays_light() -> None:
    import subprocess
    import sys

    code = (
        "import sys, modelport\n"
        "heavy = {'sklearn', 'onnxruntime', 'lightgbm', 'xgboost', 'pandas', 'typer', 'rich', 'alembic',\n"
        "         'httpx', 'starlette', 'uvicorn'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"

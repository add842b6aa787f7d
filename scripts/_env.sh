# Sourced by the scripts here: makes sure .venv exists with modelport and the given extras installed.
# Usage: ensure_venv EXTRAS   (e.g. ensure_venv dev)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${MODELPORT_VENV:-$ROOT/.venv}"

ensure_venv() {
    local extras="$1" python="${PYTHON:-}"
    if [ -z "$python" ]; then
        for candidate in python3.12 python3.11 python3; do
            if command -v "$candidate" >/dev/null 2>&1; then python="$candidate"; break; fi
        done
    fi
    if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        echo "modelport needs Python 3.11 or newer; set PYTHON=/path/to/python3.11" >&2
        exit 1
    fi
    if [ ! -x "$VENV/bin/python" ]; then
        echo "==> creating a virtualenv in $VENV"
        "$python" -m venv "$VENV"
        "$VENV/bin/python" -m pip install --quiet --upgrade pip
    fi
    echo "==> installing modelport[$extras] into $VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e "$ROOT[$extras]"
}

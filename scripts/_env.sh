# Sourced by the scripts here: makes sure .venv exists with modelport and the given extras installed.
# Usage: ensure_venv EXTRAS   (e.g. ensure_venv dev)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${MODELPORT_VENV:-$ROOT/.venv}"

ensure_venv() {
    local extras="$1" python="" candidate
    for candidate in ${PYTHON:-python3.13 python3.12 python3.11 python3}; do
        # run each candidate: a version manager's shim can exist with no interpreter behind it
        if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; then
            python="$candidate"; break
        fi
    done
    if [ -z "$python" ]; then
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

# Sourced by scripts/lab and scripts/test: make ./.venv with a Python >= 3.10, installing
# Debian's venv module first when this is a fresh Debian/Ubuntu machine without it.
VENV="${KUBELAB_VENV:-.venv}"
PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
    echo "kubelab needs Python 3.10 or newer; $PYTHON is $("$PYTHON" --version 2>&1)" >&2
    exit 1
fi
if [ ! -x "$VENV/bin/pip" ]; then
    if ! "$PYTHON" -m venv "$VENV" 2>/dev/null; then
        rm -rf "$VENV"
        if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
            apt-get update -qq && apt-get install -y -qq python3-venv
        else
            echo "python3 -m venv failed: install your distribution's python3-venv package" >&2
            exit 1
        fi
        "$PYTHON" -m venv "$VENV"
    fi
fi

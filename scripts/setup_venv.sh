#!/usr/bin/env bash
# Create (or update) the project's virtual environment in .venv and install samseg into it.
# torch is pinned to 2.13.0 when the environment has no torch yet: an unpinned torch would pull
# several GB of CUDA packages. Sourced by demo.sh and test.sh; safe to run again.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${SAMSEG_VENV:-$root/.venv}"
if [ ! -x "$venv/bin/python" ]; then
  echo "creating virtual environment $venv"
  python3 -m venv "$venv"
fi
python="$venv/bin/python"
if ! "$python" -c "import torch" >/dev/null 2>&1; then
  echo "installing torch==2.13.0 (CPU build)"
  "$python" -m pip install --quiet "torch==2.13.0"
fi
stamp="$venv/.samseg-installed"
if [ ! -f "$stamp" ] || [ "$root/setup.py" -nt "$stamp" ]; then
  echo "installing samseg and its dependencies into $venv"
  "$python" -m pip install --quiet -e "$root[test]"
  touch "$stamp"
fi
export PATH="$venv/bin:$PATH"

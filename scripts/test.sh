#!/usr/bin/env bash
# Run the whole test suite (and the linter) in the project's virtual environment.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/scripts/setup_venv.sh"
cd "$root"
ruff check .
python -m pytest tests "$@"

#!/usr/bin/env bash
# The main job on the embedded demo: make the synthetic demo dataset in ./work (or
# $SAMSEG_WORK), fingerprint, plan and preprocess it, and print what was written.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/scripts/setup_venv.sh"
work="${SAMSEG_WORK:-$root/work}"
export SAMSEG_raw="$work/raw" SAMSEG_preprocessed="$work/preprocessed" SAMSEG_results="$work/results"
mkdir -p "$SAMSEG_raw" "$SAMSEG_preprocessed" "$SAMSEG_results"
run() { echo "+ $*"; "$@"; }
run samseg_make_demo_dataset -o "$SAMSEG_raw"
run samseg_plan_and_preprocess -d Demo -np 2
echo
echo "written under $work:"
find "$work" -mindepth 1 -maxdepth 3 -not -path "*/imagesT*" -not -path "*/labelsT*" | sort | sed "s|$work/|  |"

#!/usr/bin/env bash
# The main job on the embedded demo, in ./work (or $SAMSEG_WORK): make the synthetic demo
# dataset, plan and preprocess it, train a tiny SAM from scratch on fold 0, segment the test
# cases and print their per-organ Dice table. About 4 minutes on two CPU cores.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/scripts/setup_venv.sh"
work="${SAMSEG_WORK:-$root/work}"
export SAMSEG_raw="$work/raw" SAMSEG_preprocessed="$work/preprocessed" SAMSEG_results="$work/results"
mkdir -p "$SAMSEG_raw" "$SAMSEG_preprocessed" "$SAMSEG_results"
demo="$SAMSEG_raw/Dataset001_Demo"
run() { echo "+ $*"; "$@"; }
run samseg_make_demo_dataset -o "$SAMSEG_raw"
# Plans samsegDemoPlans: one 128-pixel vit_tiny configuration, 2d_128, which keeps training on
# a CPU to minutes (the default plans' 256-1024 pixel vit_b configurations need a GPU).
run samseg_plan_and_preprocess -d Demo -np 2 -pl DemoTinyPlanner
# No SAM weights for vit_tiny exist: train from random initialisation (logged as a WARNING).
run samseg_train Demo 2d_128 0 -tr SAMDemoTinyTrainer -p samsegDemoPlans --sam_checkpoint none
run samseg_predict -i "$demo/imagesTs" -o "$work/predictions" -d Demo -c 2d_128 \
  -tr SAMDemoTinyTrainer -p samsegDemoPlans -f 0
run samseg_evaluate -ref "$demo/labelsTs" -pred "$work/predictions" -d Demo
echo
echo "written under $work:"
find "$work" -mindepth 1 -maxdepth 3 -not -path "*/imagesT*" -not -path "*/labelsT*" \
  -not -path "*/predictions/*" | sort | sed "s|$work/|  |"
echo "demo finished in ${SECONDS} s"

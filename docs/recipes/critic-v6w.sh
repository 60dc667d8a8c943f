#!/usr/bin/env bash
# Critic v6w probe: does width help? v6's data (corpus v2 with round five) and v4's recipe, with a
# wider and deeper encoder (hidden 192, 3 layers, feed-forward 576: about 3.4 times v4's compute
# per step) for ONE epoch, so it fits beside other work on 2 CPU cores (about 50 minutes).
set -euo pipefail
OUT=${1:-runs/critic13}
rewrite train-critic --output_dir "$OUT" --hidden_size 192 --layers 3 --heads 4 \
    --intermediate_size 576 --max_len 80 --frame_augment --threads 2 --epochs 1
REWRITE_CRITIC_DIR="$OUT" python -m rewrite.evaluation.critic_report > "$OUT/report.json"

#!/usr/bin/env bash
# Critic v6w2: v6w (hidden 192, 3 layers, one epoch; docs/recipes/critic-v6w.sh) trained one more
# epoch by resuming its last checkpoint with --epochs 2. The linear schedule is recomputed for two
# epochs, so the second epoch restarts at about half the peak learning rate and decays to zero (a
# warm restart, not the same schedule as a fresh two-epoch run). About 42 minutes for the second
# epoch on 2 idle CPU cores, on top of v6w's 42.
set -euo pipefail
OUT=${1:-runs/critic14}
if [ ! -d "$OUT/checkpoints" ]; then
    bash "$(dirname "$0")/critic-v6w.sh" "$OUT"
fi
rewrite train-critic --output_dir "$OUT" --hidden_size 192 --layers 3 --heads 4 \
    --intermediate_size 576 --max_len 80 --frame_augment --threads 2 --epochs 2 --resume
REWRITE_CRITIC_DIR="$OUT" python -m rewrite.evaluation.critic_report > "$OUT/report.json"

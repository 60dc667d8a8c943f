#!/usr/bin/env bash
# Critic v6 candidate: the v4 recipe (docs/recipes/critic-v4.sh) unchanged, trained on corpus v2
# with round five (rewrite/data/written/v2/z1-z6: 2,327 pairs aimed at the clause set's weakest
# categories, every offending span marked). Two CPU cores: about 30 minutes.
set -euo pipefail
OUT=${1:-runs/critic12}
rewrite train-critic --output_dir "$OUT" --hidden_size 128 --layers 2 --heads 4 \
    --intermediate_size 384 --max_len 80 --frame_augment --threads 2 --epochs 2
REWRITE_CRITIC_DIR="$OUT" python -m rewrite.evaluation.critic_report > "$OUT/report.json"

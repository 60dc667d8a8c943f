#!/usr/bin/env bash
# Critic v6u candidate: the v4 recipe (docs/recipes/critic-v4.sh) plus --drop_unkept. Writers mark
# the worst spans of a draft, not every one, so an unmarked draft clause of an offending pair was
# taken as acceptable even where it commands or brushes off (到时候APP上自己查 beside a marked
# 用不着天天打电话). With the option, such a clause is left out unless the reference keeps it (half
# of its character bigrams). Two CPU cores: about 30 to 60 minutes.
set -euo pipefail
OUT=${1:-runs/critic11}
rewrite train-critic --output_dir "$OUT" --hidden_size 128 --layers 2 --heads 4 \
    --intermediate_size 384 --max_len 80 --frame_augment --drop_unkept --threads 2 --epochs 2
REWRITE_CRITIC_DIR="$OUT" python -m rewrite.evaluation.critic_report > "$OUT/report.json"

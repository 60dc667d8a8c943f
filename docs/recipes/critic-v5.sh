#!/usr/bin/env bash
# Critic v5 candidate: the v4 recipe (docs/recipes/critic-v4.sh) plus --rewrite_augment: each
# offending training draft is also seen as the rules engine rewrites it, with the clauses that still
# hold a must-fix span labelled offending (what a partial rewrite leaves: 请您自己到驿站拿) and the
# courtesy formulas acceptable. Two CPU cores: about 30 minutes.
set -euo pipefail
rewrite train-critic --output_dir runs/critic9 --hidden_size 128 --layers 2 --heads 4 \
    --intermediate_size 384 --max_len 80 --frame_augment --rewrite_augment --threads 2 --epochs 2
REWRITE_CRITIC_DIR=runs/critic9 python -m rewrite.evaluation.critic_report > runs/critic9/report.json

#!/usr/bin/env bash
# Critic v3: the critic v2 recipe (rewrite/shipped/critic/MODEL_CARD.md) on corpus v2 a–s
# (round three, v2/n–s, added). Two CPU cores: about 35 minutes.
set -euo pipefail
rewrite train-critic --output_dir runs/critic7 --hidden_size 128 --layers 2 --heads 4 \
    --intermediate_size 384 --max_len 80 --frame_augment --threads 2 --epochs 2
REWRITE_CRITIC_DIR=runs/critic7 python -m rewrite.evaluation.critic_report > runs/critic7/report.json

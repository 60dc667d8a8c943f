#!/usr/bin/env bash
# Critic v4: the critic v3 recipe (docs/recipes/critic-v3.sh) on corpus v2 a–y (round four,
# v2/t–y, added: bare commands, slang, contradiction, curt and deflecting brush-offs, over-promises,
# blunt refusals, transcripts and Weibo/FAQ styles). Two CPU cores: about 25 minutes.
set -euo pipefail
rewrite train-critic --output_dir runs/critic8 --hidden_size 128 --layers 2 --heads 4 \
    --intermediate_size 384 --max_len 80 --frame_augment --threads 2 --epochs 2
REWRITE_CRITIC_DIR=runs/critic8 python -m rewrite.evaluation.critic_report > runs/critic8/report.json

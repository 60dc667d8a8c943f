#!/usr/bin/env bash
# Critic v5s candidate: the v4 recipe (docs/recipes/critic-v4.sh) plus --splice_augment, one
# offending clause of each offending pair set inside its own reference, so a polite reply around a
# clause no longer launders it (the v4 critic reads 色差这个真不算事儿 p(ok) 0.36 in its draft and
# 0.99 after 亲，非常抱歉，). Two CPU cores: about 30 minutes.
set -euo pipefail
rewrite train-critic --output_dir runs/critic10 --hidden_size 128 --layers 2 --heads 4 \
    --intermediate_size 384 --max_len 80 --frame_augment --splice_augment --threads 2 --epochs 2
REWRITE_CRITIC_DIR=runs/critic10 python -m rewrite.evaluation.critic_report > runs/critic10/report.json

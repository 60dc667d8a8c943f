#!/usr/bin/env bash
# Recipe of the pointer-generator candidate (issue 14, item 2): the shipped v1 model given a copy
# head (rewrite/engines/seq2seq/pointer.py, p_gen starts at 0.88) and fine-tuned on the corpus-v2
# build (whole replies) plus the aligned clause split, on 2 CPU cores, under an hour.
#   rewrite data build                     # build 6e005fc59004b5a7 at the time of this run
#   bash docs/recipes/seq2seq-pointer.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
rm -rf runs/s2s-base && mkdir -p runs/s2s-base
cp rewrite/shipped/{config.json,generation_config.json,model.safetensors,char_tokenizer.json} runs/s2s-base/
rewrite train --base_model runs/s2s-base --pointer --data rewrite/data/build/dataset \
  --clause_data rewrite/data/build/clauses_train.jsonl --clause_ratio 1.0 \
  --vocab_texts ../shared/seeds --denoise_ratio 0.2 --identity_ratio 0.05 --oov_ratio 0.03 --unkeep_ratio 0.3 \
  --output_dir runs/seq2seq-pointer --seed 42 --max_steps 4000 --time_budget_min 55 \
  --learning_rate 0.001 --warmup_steps 100 --batch_size 64 --label_smoothing 0.1 \
  --eval_steps 1000 --save_steps 250 --save_total_limit 2 --max_eval_samples 150 --threads 2 --no_progress "$@"

#!/usr/bin/env bash
# Recipe of the clause generator (issue 14): the shipped v1 seq2seq model fine-tuned on clause
# pairs only (an offending draft clause -> its professional rewrite, content kept), so the plan
# engine can rewrite a clause the critic hears offend instead of dropping or framing it.
#   rewrite data build                                   # the aligned clause split (clauses_train.jsonl)
#   bash docs/recipes/clause-gen.sh OUT [WRITTEN_DIR] [MINUTES] [ALIGNED] [WEIGHT] [more rewrite train flags, e.g. --pointer]
# WRITTEN_DIR defaults to rewrite/data/written/clauses (trainer-written clause rewrites); pass
# /nonexistent for the aligned pairs alone. 2 CPU cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${1:?output dir}
WRITTEN=${2:-rewrite/data/written/clauses}
MINUTES=${3:-30}
ALIGNED=${4-rewrite/data/build/clauses_train.jsonl}   # '' for the written pairs alone
WEIGHT=${5:-2}
mkdir -p "$OUT"
python -m rewrite.data.clause_pairs --out "$OUT/pairs.jsonl" --written "$WRITTEN" --aligned "$ALIGNED" --written-weight "$WEIGHT"
rm -rf "$OUT/base" && mkdir -p "$OUT/base"
cp rewrite/shipped/{config.json,generation_config.json,model.safetensors,char_tokenizer.json} "$OUT/base/"
rewrite train --base_model "$OUT/base" --data "$OUT/pairs.jsonl" --validation_share 0.05 \
  --denoise_ratio 0 --identity_ratio 0.05 --oov_ratio 0.05 --unkeep_ratio 0 \
  --output_dir "$OUT/model" --seed 42 --max_steps 3000 --time_budget_min "$MINUTES" \
  --learning_rate 0.0005 --warmup_steps 50 --batch_size 64 --label_smoothing 0.1 \
  --eval_steps 250 --save_steps 250 --save_total_limit 2 --max_eval_samples 200 --threads 2 --no_progress "${@:6}"
python -m rewrite.engines.seq2seq.export "$OUT/model" || echo "no CTranslate2 export: a --pointer model runs on transformers"
# The clause model's own gate (the plan engine adds its strict clause gates, rewrite/engines/plan.py).
echo '{"min_score": -0.4, "min_coverage": 0.5, "note": "clause generator: beams below -0.4 mean log-probability per token are dropped"}' > "$OUT/model/inference.json"
# Try it: REWRITE_CLAUSE_MODEL_DIR="$OUT/model" rewrite eval --bench eval/bench/heldout.jsonl --bench eval/bench/realstyle.jsonl --system seq2seq

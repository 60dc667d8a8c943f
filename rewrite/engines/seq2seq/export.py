"""Convert a trained model directory to CTranslate2 int8 (``<model_dir>/ct2``) and check it.

``python -m rewrite.engines.seq2seq.export MODEL_DIR [--drafts FILE.jsonl] [--quantization int8]``

The CTranslate2 BART converter reads ``config.normalize_before`` (and a few other keys) that
transformers 5 configs no longer carry; they are set here (False: BART is post-norm) on the
loaded model before conversion. The converter also wants a Hugging Face tokenizer; ours is the
character tokenizer, so a small adapter hands it the vocabulary and special tokens.

After converting, :func:`compare_engines` decodes the same drafts with transformers (float32)
and CTranslate2 (int8) and reports the share of identical outputs.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path
from typing import Any, Sequence

from rewrite.errors import RewriteError

CT2_SUBDIR = "ct2"


class _TokenizerAdapter:
    """The slice of a Hugging Face tokenizer the CTranslate2 BART loader uses."""

    def __init__(self, tok):
        from rewrite.engines.seq2seq.tokenizer import BOS, EOS, UNK

        self._tok = tok
        self.bos_token, self.eos_token, self.unk_token = BOS, EOS, UNK
        self.special_tokens_map: dict[str, Any] = {}

    def get_vocab(self) -> dict[str, int]:
        return dict(self._tok.index)

    def convert_ids_to_tokens(self, i: int) -> str:
        return self._tok.tokens[i]


def convert(model_dir: str | Path, quantization: str = "int8", force: bool = True) -> Path:
    """Write ``<model_dir>/ct2`` (CTranslate2, ``quantization`` weights); returns its path."""
    try:
        import ctranslate2  # noqa: F401
        from ctranslate2.converters.transformers import TransformersConverter
    except ImportError:
        raise RewriteError("未安装 ctranslate2，无法导出：请 `pip install ctranslate2`。") from None
    from rewrite.engines.seq2seq.tokenizer import CharTokenizer

    model_dir = Path(model_dir)
    cfg_path = model_dir / "config.json"
    if cfg_path.is_file() and json.loads(cfg_path.read_text(encoding="utf-8")).get("pointer_generator"):
        raise RewriteError(f"{model_dir} 是带复制机制（pointer-generator）的模型，CTranslate2 无法运行它的复制头；请用 engine='hf'。")
    tok = CharTokenizer.load(model_dir)
    out = model_dir / CT2_SUBDIR

    class _Converter(TransformersConverter):
        def load_model(self, model_class, model_name_or_path, **kwargs):
            from transformers import AutoModelForSeq2SeqLM

            model = AutoModelForSeq2SeqLM.from_pretrained(model_name_or_path, local_files_only=True)
            if type(model).__name__ != "BartForConditionalGeneration":
                raise RewriteError(f"只支持导出 BART 结构的模型，{model_dir} 是 {type(model).__name__}；请改用 engine='hf'。")
            cfg = model.config
            for key, default in (("normalize_before", False), ("normalize_embedding", True), ("add_final_layer_norm", False)):
                if not hasattr(cfg, key):
                    setattr(cfg, key, default)
            return model

        def load_tokenizer(self, tokenizer_class, model_name_or_path, **kwargs):
            return _TokenizerAdapter(tok)

    if out.exists() and force:
        shutil.rmtree(out)
    _Converter(str(model_dir)).convert(str(out), quantization=quantization, force=force)
    return out


def compare_engines(model_dir: str | Path, drafts: Sequence[str], channel: str = "phone", beams: int = 4) -> dict[str, Any]:
    """Decode ``drafts`` (raw drafts; masked here like the pipeline does) with both engines.

    Returns ``{"n", "exact_match" (percent of identical best candidates), "differences": [...]}``.
    """
    from rewrite.engines.seq2seq.backend import Seq2SeqBackend
    from rewrite.protect import protect_for_model
    from rewrite.text import chunk_text, validate_draft

    chunks = [protect_for_model(c).masked for d in drafts for c in chunk_text(validate_draft(d))]
    # Raw engines: no gates, no pass-through of polished chunks, so every chunk is compared.
    raw = dict(beams=beams, min_score=float("-inf"), min_coverage=0.0, keep_polished=False)
    hf = Seq2SeqBackend(model_dir, engine="hf", **raw).generate(chunks, n=1, channel=channel)
    ct = Seq2SeqBackend(model_dir, engine="ct2", **raw).generate(chunks, n=1, channel=channel)
    same = [a[:1] == b[:1] for a, b in zip(hf, ct)]
    diffs = [{"source": c, "hf": (a or [""])[0], "ct2": (b or [""])[0]} for c, a, b, s in zip(chunks, hf, ct, same) if not s]
    return {"n": len(chunks), "exact_match": round(100.0 * sum(same) / max(1, len(same)), 2), "differences": diffs[:20]}


#: Files of a trained model directory that the shipped copy carries.
SHIP_FILES = ("config.json", "generation_config.json", "model.safetensors", "char_tokenizer.json", "inference.json", "all_results.json", "rewrite_train.json")


def ship(model_dir: str | Path, dest: str | Path | None = None, quantization: str = "int8") -> dict[str, Any]:
    """Copy a trained model into the package (``rewrite/shipped`` by default) and convert it to
    CTranslate2 there. Keeps ``MODEL_CARD.md``; returns the file sizes in bytes."""
    from rewrite.engines.seq2seq.backend import shipped_model_dir

    src, dst = Path(model_dir), Path(dest) if dest else shipped_model_dir()
    missing = [n for n in SHIP_FILES[:4] if not (src / n).is_file()]
    if missing:
        raise RewriteError(f"{src} 缺少 {'、'.join(missing)}：请先用 `rewrite train --output-dir {src}` 训练完成。")
    dst.mkdir(parents=True, exist_ok=True)
    for old in dst.iterdir():
        if old.name != "MODEL_CARD.md":
            shutil.rmtree(old) if old.is_dir() else old.unlink()
    for name in SHIP_FILES:
        if (src / name).is_file():
            shutil.copy2(src / name, dst / name)
    convert(dst, quantization)
    sizes = {str(p.relative_to(dst)): p.stat().st_size for p in sorted(dst.rglob("*")) if p.is_file()}
    return {"dest": str(dst), "files": sizes, "total_mb": round(sum(sizes.values()) / 2**20, 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rewrite.engines.seq2seq.export", description="把训练好的模型转换为 CTranslate2（默认 int8）并与 float32 输出比对。")
    parser.add_argument("model_dir", help="rewrite train 的 --output-dir")
    parser.add_argument("--quantization", default="int8", help="int8（默认）、int8_float32、float32 …")
    parser.add_argument("--drafts", action="append", default=[], help="JSONL 文件（字段 draft），用来比对两种引擎的输出；可重复")
    parser.add_argument("--limit", type=int, default=200, help="每个文件最多比对多少条")
    parser.add_argument("--ship", action="store_true", help="复制到 rewrite/shipped/（随包发布）并在那里转换")
    args = parser.parse_args(argv)
    try:
        report: dict[str, Any] = {}
        if args.ship:
            report["shipped"] = ship(args.model_dir, quantization=args.quantization)
            from rewrite.engines.seq2seq.backend import shipped_model_dir

            args.model_dir = str(shipped_model_dir())
            out = Path(args.model_dir) / CT2_SUBDIR
        else:
            out = convert(args.model_dir, args.quantization)
        report["ct2_dir"] = str(out)
        drafts: list[str] = []
        for f in args.drafts:
            with open(f, encoding="utf-8") as fh:
                drafts += [json.loads(line)["draft"] for line in fh if line.strip()][: args.limit]
        if drafts:
            report["int8_vs_float32"] = compare_engines(args.model_dir, drafts)
    except RewriteError as e:
        print(f"错误：{e}", file=sys.stderr)
        return 2
    print(json.dumps(report, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

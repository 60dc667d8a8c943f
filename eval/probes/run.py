"""Rewrite a probe folder's drafts with the engine of this checkout and add the replies to its
outputs.jsonl under a new version (judge them next: ``eval/probes/tasks.py``).

    python eval/probes/run.py eval/probes/fresh3-2026-12-01 VERSION

Channel: ``chat`` for shop, hotel and food-delivery drafts and drafts that open with 亲, else
``phone`` (as every version in the probe folders was run). A version already in the file is refused.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

CHAT_DOMAINS = frozenset({"ecommerce", "hotel", "food_delivery"})


def channel(draft: dict) -> str:
    return "chat" if draft.get("domain") in CHAT_DOMAINS or draft["draft"].startswith("亲") else "phone"


def run(folder: Path, version: str) -> int:
    from rewrite import load_rewriter

    out = folder / "outputs.jsonl"
    have = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines() if x.strip()] if out.is_file() else []
    if any(r["version"] == version for r in have):
        sys.exit(f"版本 {version} 已在 {out} 里。")
    rw = load_rewriter("seq2seq")
    rows = []
    for f in sorted(folder.glob("drafts*.jsonl")):
        tag = f.stem.split("-", 1)[1] if "-" in f.stem else "test"
        for d in map(json.loads, f.read_text(encoding="utf-8").splitlines()):
            ch = channel(d)
            row = {"version": version, "id": d["id"], "channel": ch, "draft": d["draft"],
                   "output": rw.rewrite(d["draft"], channel=ch).target}
            rows.append({"set": tag, **row} if any("set" in r for r in have) else row)
    with out.open("a", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    return len(rows)


if __name__ == "__main__":
    if len(sys.argv) != 3 or not Path(sys.argv[1]).is_dir():
        sys.exit("用法：python eval/probes/run.py <探针目录> <版本名>")
    print(f"写入 {run(Path(sys.argv[1]), sys.argv[2])} 条回复。")

"""``python -m rewrite.evaluation.garble_scan FILE [FILE …]``: look through rewrites for the
mechanical garbles that repairs leave behind, which no metric and no judge count apart:

* a word or a function character the repair wrote twice (是是符合规定的的, 麻烦麻烦您, 好吗好吗);
* a command put inside a clause (您去大堂请您耐心等待, 我们也干请您耐心等待);
* a clause cut down to a bare pronoun (…一到三天到，您。);
* a stretch of eight characters or more said twice (a model loop; :func:`rewrite.text.repeats`);
* doubled or dangling punctuation (，。 ？，).

A hit counts only when the draft does not say the same thing (a draft's own 谢谢谢谢 stays). Input:
JSON lines with ``draft`` and ``output`` (``rewrite eval`` predictions, probe ``outputs.jsonl``,
``rewrite batch`` results; a probe's file holds every version run on it). Prints the count per
pattern and a few examples: places to look, not verdicts. It writes nothing. Use it after an engine
change, beside reading outputs (ad-hoc scans of this kind over 26,383 drafts through the rules and
12,000 through the default engine found the garbles fixed on 2026-12-02).
"""
from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from rewrite.text import repeats

#: name → (pattern, what it means). A match that the draft (without spaces) holds as well is no hit.
PATTERNS: dict[str, tuple[re.Pattern[str], str]] = {
    "word_twice": (re.compile(r"(?<!一)((?!一)[\u4e00-\u9fff]{2,4})\1"), "a word written twice"),
    "char_twice": (re.compile(r"的的(?!确)|了了(?!解)|是是|您您|请请|在在|就就|也也|都都"), "a function character written twice"),
    "command_inside": (re.compile(r"(?<=[就也都干实心去跟])(?:请您|麻烦您)|(?<=[\u4e00-\u9fff])(?<!还)请您(?:耐心等待|放心|别着急)"),
                       "a command put inside a clause"),
    "pronoun_stub": (re.compile(r"[，,](?:您|你|我|我们|他|她)还?[。！？!?]"), "a clause cut down to a pronoun"),
    "punctuation": (re.compile(r"[，。][，。]|[？！][，。]|，$"), "doubled or dangling punctuation"),
}


def _lines(paths: Iterable[Path]) -> Iterator[tuple[str, str]]:
    for path in paths:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                yield str(row["draft"]), str(row["output"])
            except (json.JSONDecodeError, KeyError, TypeError):
                print(f"{path}:{n}: 跳过（不是含 draft 与 output 的 JSON 行）", file=sys.stderr)


def scan(pairs: Iterable[tuple[str, str]]) -> dict[str, list[tuple[str, str, str]]]:
    """Hits per pattern: ``(matched text, draft, output)``; ``loop`` for a stretch said twice."""
    hits: dict[str, list[tuple[str, str, str]]] = {name: [] for name in (*PATTERNS, "loop")}
    for draft, output in pairs:
        flat = re.sub(r"\s", "", draft)
        for name, (pattern, _) in PATTERNS.items():
            m = next((m for m in pattern.finditer(output) if m.group(0) not in flat), None)
            if m:
                hits[name].append((m.group(0), draft, output))
        if repeats(draft, output):
            hits["loop"].append(("", draft, output))
    return hits


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if args else 2
    missing = [a for a in args if not Path(a).is_file()]
    if missing:
        print(f"找不到文件：{'、'.join(missing)}", file=sys.stderr)
        return 2
    pairs = list(_lines(Path(a) for a in args))
    hits = scan(pairs)
    print(f"{len(pairs)} 条回复")
    for name, found in hits.items():
        what = PATTERNS[name][1] if name in PATTERNS else "a stretch said twice (a loop)"
        print(f"{name}: {len(found)}  ({what})")
        for g, draft, output in found[:5]:
            print(f"  [{g}] {draft[:40]} → {output[:80]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

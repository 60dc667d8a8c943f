"""The clause generator's data and wiring: written clause rewrites are validated, drops are counted
and not trained on, no pair comes from a draft near a benchmark one, and the plan engine takes the
clause model when one is there."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from rewrite.data import clause_pairs as CP


def _write(path: Path, rows: list) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in rows),
                    encoding="utf-8")
    return path


def _row(i: int, clause: str, rewrite: str, context: str | None = None, channel: str = "phone") -> dict:
    return {"id": f"t{i}", "pair": f"p{i}", "domain": "telecom", "channel": channel, "category": "command",
            "context": context or f"{clause} 第{i}单", "clause": clause, "rewrite": rewrite}


def test_written_clauses_are_validated_and_drops_are_not_trained_on(tmp_path):
    wd = tmp_path / "clauses"
    _write(wd / "a.jsonl", [
        _row(1, "你先把单号发来", "麻烦您先提供一下单号"),
        _row(2, "急也没用", ""),  # pure impatience: dropped
        _row(3, "不在上下文里", "x", context="别的话"),
        _row(4, "你自己看下", "请您查看一下", channel="fax"),
        "{broken",
        _row(1, "你先把单号发来", "重复的 id"),
    ])
    bench = _write(tmp_path / "bench.jsonl", [{"id": "b1", "draft": "完全不相干的一句话而已啊", "reference": "x"}])
    pairs, st = CP.clause_pairs(wd, None, written_weight=2, bench=[bench])
    assert st.written == 1 and st.written_drops == 1
    assert pairs == [{"draft": "你先把单号发来", "reference": "麻烦您先提供一下单号", "channel": "phone", "source": "written"}] * 2
    why = "\n".join(st.problems)
    assert "clause 不在 context 中" in why and "未知渠道" in why and "重复的 id" in why and len(st.problems) == 4


def test_a_clause_from_a_draft_near_a_benchmark_draft_is_left_out(tmp_path):
    draft = "这个我不知道 你去营业厅问吧 别老打电话过来"
    wd = _write(tmp_path / "clauses" / "a.jsonl", [_row(1, "你去营业厅问吧", "建议您到营业厅咨询", context=draft + "啊")])
    bench = _write(tmp_path / "bench.jsonl", [{"id": "seed-1", "draft": draft, "reference": "x"}])
    pairs, st = CP.clause_pairs(wd.parent, None, bench=[bench])
    assert pairs == [] and st.leaks == ["t1 ≈ seed-1"]


def test_aligned_pairs_are_the_offending_rewritten_training_clauses(tmp_path):
    base = {"pair": "x-1", "context": "喂 你自己查 明天到", "channel": "chat", "split": "train"}
    aligned = _write(tmp_path / "clauses_train.jsonl", [
        {**base, "clause": "你自己查", "category": "command", "fate": "rewritten", "target": "请您查看一下"},
        {**base, "clause": "喂", "category": "slang", "fate": "dropped", "target": ""},
        {**base, "clause": "明天到", "category": "", "fate": "kept", "target": "明天到"},
        {**base, "clause": "你自己查", "category": "command", "fate": "rewritten", "target": "请您查看", "split": "validation"},
    ])
    bench = _write(tmp_path / "bench.jsonl", [{"id": "b1", "draft": "完全不相干的一句话而已啊", "reference": "x"}])
    pairs, st = CP.clause_pairs(tmp_path / "none", aligned, bench=[bench])
    assert st.aligned == 1
    assert pairs == [{"draft": "你自己查", "reference": "请您查看一下", "channel": "chat", "source": "aligned"}]


def test_the_shipped_written_clauses_are_clean_and_never_near_a_benchmark_draft():
    """The committed clause rewrites: every line valid and no context near a benchmark, critic-set
    or probe draft (the leak guard of the data build)."""
    rows, problems = CP.load_written()
    if not rows and not problems:
        pytest.skip("no written clause files")
    assert problems == []
    from rewrite.data.build import LeakGuard, bench_files, load_bench_drafts

    guard = LeakGuard(load_bench_drafts(bench_files()))
    assert [r["id"] for r in rows if guard.match(r["context"])] == []


def test_the_plan_engine_takes_the_clause_model_when_there_is_one(tmp_path, monkeypatch):
    from rewrite.engines.plan import PlanBackend
    from rewrite.engines.seq2seq import backend as S

    monkeypatch.setenv(S.CLAUSE_DIR_ENV, str(tmp_path / "clause"))
    assert S.clause_generator() is None  # no directory
    (tmp_path / "clause").mkdir()
    assert S.clause_generator() is None  # no weights
    (tmp_path / "clause" / "model.safetensors").write_bytes(b"")
    gen = S.clause_generator()
    assert gen is not None and gen.model_dir == tmp_path / "clause" and gen.keep_polished is False and gen.clause_model
    loaded = []
    monkeypatch.setattr(S.Seq2SeqBackend, "load", lambda self: loaded.append(self.model_dir) or self)
    assert PlanBackend(generator="auto").generator.model_dir == tmp_path / "clause"
    monkeypatch.setenv(S.CLAUSE_DIR_ENV, str(tmp_path / "nothing"))
    assert PlanBackend(generator="auto").generator.model_dir == S.default_model_dir()  # the seq2seq model


def test_eval_signatures_name_a_clause_generator_of_its_own():
    """A clause generator changes outputs, so the signature says which one."""
    from rewrite.engines.plan import PlanBackend, clause_signature
    from rewrite.evaluation.harness import load_system

    class _Gen:
        model_hash = "abcdef123456"

    gen = _Gen()
    assert clause_signature(None) == "-" and clause_signature(PlanBackend(generator=None)) == "-"
    assert clause_signature(PlanBackend(generator=gen)) == "gen:abcdef123456"
    assert clause_signature(PlanBackend(generator=gen), gen) == "-"  # the engine's own model
    assert load_system("rules").clauses == "-"


def test_the_pair_builder_refuses_broken_lines_and_writes_nothing(tmp_path, capsys):
    """A broken written clause line stops ``python -m rewrite.data.clause_pairs`` with exit 2 and
    its file:line named; no half-built pair file is left for training."""
    wd = _write(tmp_path / "clauses" / "a.jsonl", [_row(1, "你先把单号发来", "麻烦您先提供一下单号"), "{broken"])
    out = tmp_path / "pairs.jsonl"
    assert CP.main(["--out", str(out), "--written", str(wd.parent), "--aligned", ""]) == 2
    assert not out.exists() and "a.jsonl:2" in capsys.readouterr().err
    _write(wd, [_row(1, "你先把单号发来", "麻烦您先提供一下单号")])
    assert CP.main(["--out", str(out), "--written", str(wd.parent), "--aligned", ""]) == 0
    assert [json.loads(x)["reference"] for x in out.read_text(encoding="utf-8").splitlines()] == ["麻烦您先提供一下单号"] * 2


def test_a_broken_clause_model_does_not_stop_an_evaluation(tmp_path, monkeypatch):
    """A clause model directory with unreadable files: the system still loads, its signature says
    ``gen:?`` and a rewrite falls back to the rules repairs without raising."""
    from rewrite.engines.seq2seq import backend as S
    from rewrite.evaluation.harness import load_system

    (tmp_path / "model.safetensors").write_text("garbage", encoding="utf-8")
    monkeypatch.setenv(S.CLAUSE_DIR_ENV, str(tmp_path))
    system = load_system("seq2seq")
    assert system.available and system.clauses == "gen:?"
    assert system.rewriter.rewrite("你自己查下短信 肯定到了").target

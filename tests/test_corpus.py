"""Corpus v2: the counts the corpus promises, faithfulness of every reference, must-fix spans
absent from references, keep spans on both sides, derived alignment that points where it claims,
and a build that fails with file:line on a broken pair."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from rewrite.data.align import align, clause_rows
from rewrite.data.audit import CATEGORIES, clauses, fact_items, fold, is_acceptable_pair, pair_problems_v2
from rewrite.data.build import written_files
from rewrite.data.jsonl import read_pairs

ROOT = Path(__file__).resolve().parents[1]
BENCHES = sorted((ROOT / "eval" / "bench").glob("*.jsonl"))


@pytest.fixture(scope="module")
def written():
    pairs, problems = read_pairs(written_files(), training=True)
    assert not problems, [str(p) for p in problems[:10]]
    return pairs


def test_every_written_pair_passes_the_v2_rules(written):
    # read_pairs already applies them; this re-checks the rules directly, so neither can drift
    bad = [(p["id"], pair_problems_v2(p)) for p in written if pair_problems_v2(p)]
    assert not bad, bad[:10]
    assert all("must_fix" in p and "categories" in p and "style" in p for p in written)


@pytest.mark.parametrize("bench", BENCHES, ids=lambda p: p.name)
def test_bench_must_fix_spans_are_in_drafts_and_never_in_references(bench):
    recs = [json.loads(x) for x in bench.read_text(encoding="utf-8").splitlines() if x.strip()]
    assert recs and all("must_fix" in r for r in recs)
    for r in recs:
        for span in r["must_fix"]:
            assert span in r["draft"], (r["id"], span)
            assert fold(span) not in fold(r["reference"]), (r["id"], span)
        assert not pair_problems_v2(r, bench=True), (r["id"], pair_problems_v2(r, bench=True))


def test_corpus_counts(written):
    new = [p for p in written if p["source"] == "written:v2"]
    assert len(written) >= 8000 and len(new) >= 6000
    assert len({p["domain"] for p in written}) >= 14
    share = lambda xs, f: sum(map(f, xs)) / len(xs)  # noqa: E731
    assert share(new, lambda p: bool(p["must_fix"])) >= 0.60
    assert share(new, lambda p: len(clauses(p["draft"])) >= 3 and len(p["keep"]) + len(fact_items(p["draft"])) >= 2) >= 0.30
    assert share(new, lambda p: p["style"] != "plain") >= 0.20
    assert share(new, lambda p: is_acceptable_pair(p["draft"], p["reference"])) >= 0.25
    per_cat = Counter(c for p in written for c in set(p["categories"]))
    assert all(per_cat[c] >= 300 for c in CATEGORIES), per_cat


def test_alignment_points_where_it_claims(written):
    for p in written[::7]:  # every 7th pair keeps this fast; the rules are the same for all
        al = align(p)
        for c in al["clauses"]:
            assert p["draft"][c["start"]:c["end"]] == c["text"]
            assert c["fate"] in ("kept", "rewritten", "dropped")
            assert (c.get("ref_clause") is None) == (c["fate"] == "dropped")
        for a in al["added"]:
            assert p["reference"][a["start"]:a["end"]] == a["text"]


def test_alignment_by_hand():
    p = {"id": "x", "draft": "三年内不能销户 协议写了 你签了字的", "reference": "非常抱歉，三年内不能销户，协议上有约定。",
         "must_fix": ["你签了字的"], "categories": ["blame"]}
    al = align(p)
    assert [(c["text"], c["fate"], c["act"]) for c in al["clauses"]] == [
        ("三年内不能销户", "kept", "refuse"), ("协议写了", "rewritten", "inform"), ("你签了字的", "dropped", "blame")]
    assert al["clauses"][2]["why"] == "pure blame, no fact"
    assert [(a["text"], a["kind"]) for a in al["added"]] == [("非常抱歉", "apology")]
    rows = clause_rows([p], "train")
    assert [r["target"] for r in rows] == ["三年内不能销户", "协议上有约定", ""]


def test_a_broken_pair_fails_the_build_with_file_and_line(tmp_path):
    from rewrite.data.build import BuildConfig, BuildError, run_build

    d = tmp_path / "written"
    d.mkdir()
    good = {"id": "t-1", "draft": "不行 退不了", "reference": "非常抱歉，这个暂时无法退。", "keep": [], "must_fix": ["不行"],
            "categories": ["refuse"], "style": "plain", "domain": "telecom", "scenario": "refund", "channel": "chat", "source": "written:team"}
    invented = dict(good, id="t-2", draft="不行 换不了", reference="非常抱歉，这个暂时无法换，请您携带身份证到营业厅。")
    (d / "a.jsonl").write_text(json.dumps(good, ensure_ascii=False) + "\n" + json.dumps(invented, ensure_ascii=False) + "\n", encoding="utf-8")
    with pytest.raises(BuildError) as e:
        run_build(BuildConfig(out=tmp_path / "out", written_dir=d, bench=[], save_dataset=False, progress=False, diversity=False))
    assert "a.jsonl:2" in str(e.value) + " ".join(map(str, getattr(e.value, "problems", [])))


def test_the_audit_also_refuses_an_unknown_scenario(tmp_path, capsys):
    """Writers run the audit, not the build: it must say what the build would refuse."""
    from rewrite.data.audit import main

    rec = {"id": "x1", "draft": "您能不能先别说了 让我查", "reference": "麻烦您稍等一下，我这边先为您查询。",
           "keep": [], "must_fix": ["您能不能先别说了"], "categories": ["impatience"], "domain": "broadband",
           "scenario": "impatience", "channel": "phone", "style": "transcript", "source": "written:v2"}
    path = tmp_path / "p.jsonl"
    path.write_text(json.dumps(rec, ensure_ascii=False) + "\n", encoding="utf-8")
    assert main([str(path)]) == 1
    assert "未知场景" in capsys.readouterr().out
    rec["scenario"] = "hold_for_query"
    path.write_text(json.dumps(rec, ensure_ascii=False) + "\n", encoding="utf-8")
    assert main([str(path)]) == 0


def test_round_five_holds_no_clause_set_clause():
    # Round five's writers were prompted with clause-set wording as examples: every pair that holds
    # one of its offending clauses, or a close variant, was taken out before it was committed.
    from rewrite.data.build import ClauseLeakGuard

    guard = ClauseLeakGuard()
    assert guard.match("您好，证件号再念一遍，谢谢") == "证件号再念一遍"  # the guard hears a copied clause
    files = sorted((ROOT / "rewrite" / "data" / "written" / "v2").glob("z*.jsonl"))
    assert len(files) == 6
    pairs, problems = read_pairs(files, training=True)
    assert not problems and len(pairs) >= 2000
    leaks = [(p["id"], guard.match(p["draft"]) or guard.match(p["reference"])) for p in pairs
             if guard.match(p["draft"]) or guard.match(p["reference"])]
    assert not leaks, leaks[:10]

"""The norms checker: the labelled case table (precision/recall), every rule's own examples,
span and field contracts, speed, and clear errors on broken norms."""
from __future__ import annotations

import time

import pytest

from conftest import load_checker_cases
from functools import partial

import rewrite

# These tests are about the rule library (prompts/forbidden.yaml); the learned critic that
# rewrite.check adds by default is measured in tests/test_critic.py and docs/checker.md.
check = partial(rewrite.check, critic=False)
from rewrite.norms.checker import compiled_norms
from rewrite.errors import NormsError
from rewrite.norms.load import load_forbidden

#: Thresholds on tests/cases/checker_cases.yaml (measured: P = 1.000, R = 0.980, see docs/checker.md).
MIN_PRECISION = 0.99
MIN_RECALL = 0.95

CASES = load_checker_cases()


def _measure(cases: list[dict]) -> tuple[int, int, int, int, list[str]]:
    tp = fp = fn = tn = 0
    wrong: list[str] = []
    for c in cases:
        flagged = bool(check(c["text"], channel=c.get("channel")).findings)
        if c["label"] == "breach":
            tp += flagged
            fn += not flagged
            if not flagged:
                wrong.append(f"FN {c['text']}")
        else:
            fp += flagged
            tn += not flagged
            if flagged:
                wrong.append(f"FP {c['text']}")
    return tp, fp, fn, tn, wrong


def test_case_table_precision_and_recall():
    tp, fp, fn, tn, wrong = _measure(CASES)
    precision = tp / (tp + fp)
    recall = tp / (tp + fn)
    print(f"\ncase table: n={len(CASES)} tp={tp} fp={fp} fn={fn} tn={tn} P={precision:.3f} R={recall:.3f}")
    assert precision >= MIN_PRECISION, wrong
    assert recall >= MIN_RECALL, wrong


def test_every_seed_professional_phrasing_is_clean():
    for c in CASES:
        if c["kind"] == "seed_professional":
            fs = check(c["text"], channel=c.get("channel")).findings
            assert not fs, (c["text"], [(f.rule_id, f.text) for f in fs])


def test_every_seed_forbidden_example_is_flagged_in_its_category():
    for c in CASES:
        if c["kind"] in ("seed_forbidden", "seed_habitual"):
            fs = check(c["text"], channel=c.get("channel")).findings
            assert fs, c["text"]
            if c.get("expect"):
                assert {f.category for f in fs} & set(c["expect"]), (c["text"], [(f.category, f.text) for f in fs])


def test_case_table_is_balanced_and_cited():
    kinds = {c["kind"] for c in CASES}
    assert {"seed_professional", "seed_forbidden", "seed_habitual", "team"} <= kinds
    assert all(c.get("source") for c in CASES)
    assert sum(c["label"] == "ok" for c in CASES) >= 100
    assert sum(c["label"] == "breach" for c in CASES) >= 80


@pytest.mark.parametrize("rule", load_forbidden().rules, ids=lambda r: r.id)
def test_rule_examples_and_counter_examples(rule):
    channel = rule.channels[0] if rule.channels else None
    assert rule.examples, f"{rule.id} has no examples"
    for ex in rule.examples:
        assert rule.id in [f.rule_id for f in check(ex, channel=channel).findings], ex
    for ex in rule.counter_examples:
        fs = check(ex, channel=channel).findings
        assert not fs, (ex, [(f.rule_id, f.text) for f in fs])


def test_every_rule_cites_a_seed_and_explains_in_chinese():
    for r in load_forbidden().rules:
        assert r.source and r.explanation and r.suggestions, r.id
        assert any("\u4e00" <= ch <= "\u9fff" for ch in r.explanation), r.id


@pytest.mark.parametrize(
    "text, rule_id, span",
    [
        ("喂，您好", "forbidden.wei", "喂"),
        ("您好，请问您叫什么名字？", "forbidden.shenme_jiao", "叫什么名字"),
        ("好的，我帮你查", "address.ni", "你"),
        ("这个我办不了", "refusal.bu_liao", "办不了"),
        ("问题是活动结束了", "refusal.bare_no", "问题是"),
    ],
)
def test_spans_point_at_the_breach(text, rule_id, span):
    f = next(f for f in check(text).findings if f.rule_id == rule_id)
    assert text[f.start : f.end] == f.text == span


def test_finding_fields_and_score():
    rep = check("喂，你听不见吗？这个我不知道，你去营业厅问吧")
    assert rep.findings and 0 <= rep.score < 100
    assert [f.start for f in rep.findings] == sorted(f.start for f in rep.findings)
    for f in rep.findings:
        assert f.severity in ("high", "medium", "low")
        assert f.category in compiled_norms().norms.categories
        d = f.to_dict()
        assert set(d) >= {"rule_id", "category", "severity", "start", "end", "text", "explanation", "suggestions"}
    clean = check("您好，请问有什么可以帮您？")
    assert clean.ok and clean.score == 100
    # more and worse breaches score lower
    assert check("喂，你听不见吗？").score < check("好的啊").score < 100


def test_channel_specific_rule():
    assert not check("亲，您好，请问有什么可以帮您？", channel="chat").findings
    assert [f.rule_id for f in check("亲，您好，请问有什么可以帮您？", channel="phone").findings] == ["address.qin_phone"]
    assert not check("亲，您好，请问有什么可以帮您？").findings


def test_empty_and_odd_text():
    assert check("").ok and check("").score == 100
    assert check("   ").ok
    assert check("Hello, your order has shipped 😀").ok
    assert [f.rule_id for f in check("<b>喂</b>").findings] == ["forbidden.wei"]


def test_rules_compile_once_and_are_reused():
    """The rule library compiles on first use and is reused (speed itself is a benchmark in the
    harness: `python -m rewrite.evaluation.bench_check`, side by side with the critic)."""
    from rewrite.norms.checker import compiled_norms

    text = "这个我不知道，你去营业厅问吧，反正我们只是一个受理部门，您好，请问有什么可以帮您？"
    check(text, critic=False)
    first = compiled_norms()
    for _ in range(3):
        check(text, critic=False)
    assert compiled_norms() is first


def test_edited_norms_take_effect(prompts_copy):
    path = prompts_copy / "forbidden.yaml"
    assert not check("亲们好").findings
    text = path.read_text(encoding="utf-8").replace("patterns: ['木有|神马", "patterns: ['亲们|木有|神马", 1)
    path.write_text(text, encoding="utf-8")
    assert [f.rule_id for f in check("亲们好").findings] == ["particle.net_slang"]


@pytest.mark.parametrize(
    "mutate, expected",
    [
        (lambda s: s.replace("severity: high", "severity: severe", 1), "severity"),
        (lambda s: s.replace("category: 禁用语", "category: 无此类别", 1), "未知类别"),
        (lambda s: s.replace("'%START%喂+'", "'%START%喂+('", 1), "正则表达式"),
        (lambda s: s.replace("  - id: forbidden.shenme\n", "  - id: forbidden.wei\n", 1), "id 重复"),
        (lambda s: s.replace("rules:", "rules: [", 1), "YAML 格式有误"),
        (lambda s: "just a string\n", "键值映射"),
    ],
)
def test_malformed_norms_raise_a_clear_error(prompts_copy, mutate, expected):
    path = prompts_copy / "forbidden.yaml"
    path.write_text(mutate(path.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(NormsError) as e:
        check("您好")
    msg = str(e.value)
    assert expected in msg and "forbidden.yaml" in msg


def test_missing_norms_file(prompts_copy):
    (prompts_copy / "forbidden.yaml").unlink()
    with pytest.raises(NormsError, match="缺少规范文件"):
        check("您好")


def test_typo_findings_and_the_typo_tidy_up_agree():
    """The typos the checker flags (typo.common in forbidden.yaml) are the ones the tidy-up corrects
    (the typo.* steps of replacements.yaml): each example is corrected and each finding suggests
    its own correction; a counter-example is neither flagged nor changed."""
    from rewrite.engines.rules import fix_typos
    from rewrite.norms.checker import find
    from rewrite.norms.load import load_forbidden

    rule = next(r for r in load_forbidden().rules if r.id == "typo.common")
    for text in rule.examples:
        fs = [f for f in find(text) if f.rule_id == "typo.common"]
        assert fs and fix_typos(text) != text, text
        fixed = text
        for f in reversed(fs):
            assert len(f.suggestions) == 1, (text, f.suggestions)
            fixed = fixed[: f.start] + f.suggestions[0] + fixed[f.end:]
        assert fixed == fix_typos(text), (text, fixed)
    for text in rule.counter_examples:
        assert fix_typos(text) == text, text
    two = "谢谢您的配和，有问题在联系我们"  # two typos: each finding suggests its own fix
    assert [f.suggestions for f in find(two) if f.rule_id == "typo.common"] == [("配合",), ("再",)]


def test_the_critic_never_hears_tone_in_a_clause_without_words():
    """A clause of emoji, digits or Latin letters has no words to hear a tone in: 😀😀 was heard as
    impatience, and the default engine dropped it and apologised (非常抱歉，您好。)."""
    from rewrite import load_rewriter

    found = check("😀😀 你好", critic=True).findings
    assert not any(f.source == "model" and "😀" in f.text for f in found), found
    out = load_rewriter("seq2seq").rewrite("😀😀 你好").target
    assert "😀😀" in out and "抱歉" not in out, out

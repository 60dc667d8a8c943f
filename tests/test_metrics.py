"""Every metric of the eval harness against values worked out by hand (the derivation is in each
case's comment), so a change in sacrebleu's defaults or in our wrappers shows up here."""
from __future__ import annotations

import math

import pytest

from rewrite.evaluation import metrics as M


# chrF2 (sacrebleu, char_order=6, beta=2, whitespace dropped). Per order n: precision and recall of
# character n-grams summed over the corpus; orders where hyp or ref has no n-gram are left out of
# the average; score = F_beta of the averaged precision and recall. With P = R the score is P.
CHRF_CASES = [
    # abc / abd: 1-grams 2/3, 2-grams 1/2, 3-grams 0/1 -> P = R = (2/3 + 1/2 + 0)/3 = 7/18.
    (["abc"], ["abd"], 100 * 7 / 18),
    # whitespace is dropped before counting: same as abc / abd.
    (["a b c"], ["abd"], 100 * 7 / 18),
    # Corpus sums: 1-grams (2+1)/(2+2) = 3/4, 2-grams (1+0)/(1+1) = 1/2 -> (3/4 + 1/2)/2 = 5/8.
    (["ab", "xy"], ["ab", "xz"], 62.5),
    # 您好请稍等 / 您好请稍候: orders 1-5 match 4/5, 3/4, 2/3, 1/2, 0/1 -> (163/60)/5 = 163/300.
    (["您好请稍等"], ["您好请稍候"], 100 * 163 / 300),
    (["您好，请稍等。"], ["您好，请稍等。"], 100.0),
    ([""], ["您好"], 0.0),
]


@pytest.mark.parametrize("hyps,refs,expected", CHRF_CASES)
def test_chrf_matches_hand_computed(hyps, refs, expected):
    assert M.chrf(hyps, refs) == pytest.approx(expected, abs=1e-9)


def test_chrf_unequal_recall_uses_beta_2():
    # ab / abcd: 1-grams P = 2/2, R = 2/4; 2-grams P = 1/1, R = 1/3; 3-gram order has no hyp n-gram.
    # P = 1, R = (1/2 + 1/3)/2 = 5/12; F2 = 5 * P * R / (4P + R) = (25/12) / (53/12) = 25/53.
    assert M.chrf(["ab"], ["abcd"]) == pytest.approx(100 * 25 / 53, abs=1e-9)


# BLEU with tokenize="zh": every CJK character is a token. Geometric mean of the 1-4-gram
# precisions times the brevity penalty exp(1 - r/c) when the output is shorter.
BLEU_CASES = [
    # 4/5 * 3/4 * 2/3 * 1/2 = 1/5 -> (1/5) ** (1/4).
    (["您好请稍等"], ["您好请稍候"], 100 * 0.2 ** 0.25),
    # All precisions 1, c = 4 < r = 5 -> exp(1 - 5/4).
    (["您好请稍"], ["您好请稍候"], 100 * math.exp(-0.25)),
    (["您好，请稍等。"], ["您好，请稍等。"], 100.0),
    # Latin words and numbers stay whole tokens: 订 单 A12 已 发 (5 tokens) -> identical.
    (["订单A12已发"], ["订单A12已发"], 100.0),
]


@pytest.mark.parametrize("hyps,refs,expected", BLEU_CASES)
def test_bleu_matches_hand_computed(hyps, refs, expected):
    assert M.bleu(hyps, refs) == pytest.approx(expected, abs=1e-9)


def test_empty_corpus_is_none_not_zero():
    assert M.chrf([], []) is None
    assert M.bleu([], []) is None
    assert M.chrf_bootstrap([], []) is None
    with pytest.raises(ValueError):
        M.chrf(["a"], [])


def test_sentence_chrf():
    assert M.sentence_chrf("abc", "abd") == pytest.approx(100 * 7 / 18)
    assert M.sentence_chrf("您好", "您好") == pytest.approx(100.0)


def test_sacrebleu_signatures_name_the_settings():
    sig = M.sacrebleu_signatures()
    assert sig["chrf"].startswith("chrF2|nrefs:1|") and "nc:6" in sig["chrf"] and "nw:0" in sig["chrf"]
    assert sig["bleu"].startswith("BLEU|nrefs:1|") and "tok:zh" in sig["bleu"]
    import sacrebleu

    assert f"version:{sacrebleu.__version__}" in sig["bleu"]


def test_bootstrap_is_deterministic_and_brackets_the_score():
    hyps = ["您好请稍等", "abc", "好的", "喂你说", "请您稍候，马上为您查询"]
    refs = ["您好请稍候", "abd", "好的", "您好，请讲", "请您稍候，正在为您查询"]
    a = M.chrf_bootstrap(hyps, refs, n=300, seed=7)
    b = M.chrf_bootstrap(hyps, refs, n=300, seed=7)
    c = M.chrf_bootstrap(hyps, refs, n=300, seed=8)
    assert a == b
    assert a != c
    lo, hi = a
    assert 0.0 <= lo < M.chrf(hyps, refs) < hi <= 100.0


def test_bootstrap_of_one_item_is_that_item():
    # Every resample of a one-item corpus is the item itself: the interval collapses on the score.
    lo, hi = M.chrf_bootstrap(["abc"], ["abd"], n=50, seed=0)
    assert lo == pytest.approx(100 * 7 / 18) and hi == pytest.approx(100 * 7 / 18)


def test_bootstrap_of_perfect_outputs_is_100():
    assert M.chrf_bootstrap(["您好", "再见"], ["您好", "再见"], n=50) == pytest.approx((100.0, 100.0))


def test_compliance_counts_missing_outputs_as_failures():
    assert M.compliance([0, 2, 0, None]) == 0.5
    assert M.compliance([0, 0]) == 1.0
    assert M.compliance([]) is None


def test_findings_per_100_chars_is_a_corpus_ratio():
    # 1 finding over 5 + 5 characters -> 10 per 100.
    assert M.findings_per_100_chars([1, 0], ["abcde", "fghij"]) == pytest.approx(10.0)
    # 3 findings over 20 + 0 characters -> 15.
    assert M.findings_per_100_chars([3, 0], ["a" * 20, ""]) == pytest.approx(15.0)
    assert M.findings_per_100_chars([], []) is None


def test_spans_preserved():
    # "58元" kept, "12:00" lost, "A1" lost; a span listed twice counts once.
    assert M.spans_preserved([["58元", "12:00"], ["A1", "A1"]], ["共58元", "B1"]) == (1, 3)
    assert M.spans_preserved([[]], ["x"]) == (0, 0)
    assert M.ratio(1, 3) == pytest.approx(1 / 3)
    assert M.ratio(0, 0) is None


def test_over_editing_only_on_already_professional_drafts():
    drafts = ["好的", "你好", "请稍等"]
    refs = ["好的", "您好", "请稍等"]  # items 0 and 2 are already professional
    outs = ["好的。", "您好", "请稍等"]  # item 0 gained one character, item 2 untouched
    got = M.over_editing(drafts, refs, outs)
    assert got == {"n": 2, "unchanged": 0.5, "mean_edit_distance": 0.5}
    assert M.over_editing(["a"], ["b"], ["c"]) == {"n": 0, "unchanged": None, "mean_edit_distance": None}


@pytest.mark.parametrize("a,b,d", [("kitten", "sitting", 3), ("", "您好", 2), ("您好", "您好", 0), ("请稍等", "稍等", 1)])
def test_edit_distance(a, b, d):
    assert M.edit_distance(a, b) == d


def test_length_ratio_is_total_over_total():
    assert M.length_ratio(["abcd", "ef"], ["ab", "ab"]) == pytest.approx(1.5)
    assert M.length_ratio([], []) is None


def test_percentile_linear_interpolation_matches_numpy():
    import numpy as np

    xs = [4.0, 1.0, 3.0, 2.0]
    assert M.percentile(xs, 50) == 2.5  # between 2 and 3
    assert M.percentile(xs, 95) == pytest.approx(3.85)  # rank 3 * 0.95 = 2.85 -> 3 + 0.85
    for q in (0, 10, 50, 90, 95, 100):
        assert M.percentile(xs, q) == pytest.approx(float(np.percentile(xs, q)))
    assert M.percentile([7.0], 95) == 7.0
    assert M.percentile([], 50) is None


def test_throughput_and_share():
    assert M.throughput(64, 2.0) == 32.0
    assert M.throughput(0, 1.0) is None
    assert M.share([True, False, True, True]) == 0.75
    assert M.share([]) is None

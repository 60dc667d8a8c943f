"""Fact and content-word protection: what gets masked, what stays, and that restore is exact."""
from __future__ import annotations

import pytest

from rewrite.protect import (
    PLACEHOLDER_RE,
    find_content,
    find_facts,
    placeholder_problems,
    protect,
    protect_for_model,
    restore,
)


def spans(text: str) -> list[tuple[str, str]]:
    return [(text[s:e], k) for s, e, k in find_facts(text)]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("T2套餐每月58元", [("T2", "EN"), ("58元", "AMT")]),
        ("V12吸尘器", [("V12", "EN")]),
        ("5G套餐", [("5G", "NUM")]),
        ("等了10 分钟", [("10 分钟", "NUM")]),
        ("账单3862块4 最低还款386块24", [("3862块4", "AMT"), ("386块24", "AMT")]),
        ("见www.example.com.", [("www.example.com", "URL")]),
        ("单号SF1234567890，3月5日下午3点送到", [("SF1234567890", "ID"), ("3月5日", "DATE"), ("下午3点", "TIME")]),
        ("打13812345678或者95598", [("13812345678", "PHONE"), ("95598", "PHONE")]),
        ("最低还款386 下周再说", [("386", "NUM")]),
    ],
)
def test_fact_spans(text, expected):
    assert spans(text) == expected


@pytest.mark.parametrize(
    "draft, masked",
    [
        # names (surname + title, 小/老 + surname), places, lexicon brands
        ("李女士您好，您的宽带下周到期", "<ENT1>您好，您的宽带下周到期"),
        ("小王 你的单号SF1234567890", "<ENT1> 你的单号<ID1>"),
        ("您好，欢迎咨询华为售后服务", "您好，欢迎咨询<ENT1>售后服务"),
        ("顺丰的快递员已经在路上了", "<ENT1>的快递员已经在路上了"),
        ("上海市浦东新区张江路的门店有货", "<ENT1>的门店有货"),
        # quoted text stays whole
        ("请关注“电信营业厅”公众号", "请关注<ENT1>公众号"),
        # ordinary service vocabulary is never masked
        ("你去营业厅问吧", "你去营业厅问吧"),
        ("请您稍等，我为您查询订单的退款进度", "请您稍等，我为您查询订单的退款进度"),
        ("宽带坏了就报修 师傅会上门", "宽带坏了就报修 师傅会上门"),
        ("谢谢您的建议，祝您生活愉快", "谢谢您的建议，祝您生活愉快"),
    ],
)
def test_content_words(draft, masked):
    assert protect_for_model(draft).masked == masked


def test_keep_spans_take_their_fact_type():
    p = protect_for_model("非常抱歉，19元畅聊包的活动已经结束了", ["19元", "畅聊包"])
    assert p.masked == "非常抱歉，<AMT1><ENT1>的活动已经结束了"
    assert p.slots == {"<AMT1>": "19元", "<ENT1>": "畅聊包"}


def test_same_value_same_placeholder():
    p = protect_for_model("淘宝的问题找淘宝，金额58元，再说一遍58元")
    assert p.masked.count("<AMT1>") == 2 and p.masked.count("<ENT1>") == 2


def test_content_can_be_switched_off():
    assert protect_for_model("李女士您好", content=False).masked == "李女士您好"
    assert find_content("hello 123") == []


@pytest.mark.parametrize(
    "text",
    [
        "李女士您好，您在上海市浦东新区张江路买的华为nova 12已于3月5日发出，单号SF1234567890。",
        "<b>您好</b>，订单&nbsp;12345678 已退款 ¥58.5 😀 请查收",
        "Please call 400-123-4567 or mail help@example.com, 谢谢！",
        "「暖心套餐」每月 39 元，含 30G 流量和 500 分钟通话",
        "宝宝们 冲呀🔥🔥 满88包邮\n第二行：www.example.com/a?b=1",
        "我们已经核实, 您的 iPhone 15 Pro Max 保修到 2025-06-30",
        "",
        "   ",
        "<ENT1> 已经是占位符的样子",
    ],
)
def test_restore_inverts_protect(text):
    p = protect_for_model(text, ["暖心套餐"] if "暖心" in text else [])
    assert restore(p.masked, p.slots) == text
    q = protect(text)
    assert restore(q.masked, q.slots) == text


def test_placeholder_problems():
    slots = {"<AMT1>": "58元", "<ENT1>": "华为"}
    assert placeholder_problems("<ENT1>手机<AMT1>", slots) == []
    assert placeholder_problems("<ENT1>和<ENT1>都是<AMT1>", slots) == []  # a name may repeat
    assert placeholder_problems("<AMT1><AMT1><ENT1>", slots) == ["重复了 58元"]
    assert placeholder_problems("<ENT1>", slots) == ["丢失了 58元"]
    assert placeholder_problems("<ENT1><AMT1><ID1>", slots) == ["凭空多出 <ID1>"]
    assert PLACEHOLDER_RE.fullmatch("<ENT12>")

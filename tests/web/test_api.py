"""The HTTP API over real HTTP on loopback, including a bounded load test."""
from __future__ import annotations

import concurrent.futures as cf

import pytest

from .conftest import post_json


def test_health(app_server):
    import urllib.request, json

    with urllib.request.urlopen(app_server["url"] + "/api/health", timeout=10) as r:
        body = json.loads(r.read())
    assert body["status"] == "ok" and "rules" in body["backends"]
    assert set(body["critic"]) == {"available", "model", "reason"}
    assert body["critic"]["available"] == (body["critic"]["model"] is not None) and (body["critic"]["available"] or body["critic"]["reason"])


def test_check_returns_both_sources_and_notes(app_server):
    status, body = post_json(app_server["url"] + "/api/check", {"text": "喂，您签了字的，自己看合同"})
    assert status == 200 and body["findings"]
    assert {f["source"] for f in body["findings"]} <= {"rule", "model"} and "rule" in {f["source"] for f in body["findings"]}
    assert isinstance(body["notes"], list)


def test_rewrite_returns_professional_reply_and_keeps_facts(app_server):
    status, body = post_json(
        app_server["url"] + "/api/rewrite",
        {"draft": "你的订单2023112845678明天发货，运费12元你自己出", "n": 3, "channel": "chat", "backend": "rules"},
    )
    assert status == 200, body
    assert body["backend"] == "rules"
    assert "2023112845678" in body["rewrite"] and "12元" in body["rewrite"]
    assert "你" not in body["rewrite"]
    assert body["findings_before"], "the draft breaks the 您 norm, so findings_before must not be empty"
    assert isinstance(body["alternatives"], list) and isinstance(body["edits"], list)
    assert body["ms"] >= 0


def test_check(app_server):
    status, body = post_json(app_server["url"] + "/api/check", {"text": "喂，你听不见吗？"})
    assert status == 200
    assert any("喂" in f["text"] for f in body["findings"]) and len(body["findings"]) >= 2, body
    status, body = post_json(app_server["url"] + "/api/check", {"text": "您好，请问有什么可以帮您？"})
    assert status == 200 and body["findings"] == []


@pytest.mark.parametrize(
    "payload, status, kind",
    [
        ({"draft": "   "}, 400, "EmptyDraftError"),
        ({"draft": "好" * 10001, "backend": "rules"}, 413, "DraftTooLongError"),
        ({"text": 1}, 400, "InvalidDraftError"),
        ({"draft": "你好", "backend": "nope"}, 400, "UnknownBackendError"),
        ({"draft": "你好", "channel": "fax", "backend": "rules"}, 400, "InvalidDraftError"),
        (b"{not json", 400, "BadJSON"),
        ([1, 2], 400, "BadJSON"),
    ],
)
def test_errors_are_json_with_status(app_server, payload, status, kind):
    got_status, body = post_json(app_server["url"] + "/api/rewrite", payload)
    assert got_status == status, body
    assert body["type"] == kind and body["error"]


def test_llm_backend_without_endpoint_is_503(app_server):
    got_status, body = post_json(app_server["url"] + "/api/rewrite", {"draft": "你好", "backend": "llm"})
    assert got_status == 503, body
    assert body["error"]


def test_200_concurrent_requests_all_succeed(app_server):
    """Bounded load: 200 requests from 50 threads against loopback; every one must succeed."""
    drafts = [f"你的工单GD{20240000 + i}已经受理了 等通知吧" for i in range(200)]

    def one(d):
        return post_json(app_server["url"] + "/api/rewrite", {"draft": d, "backend": "rules"}, timeout=120)

    with cf.ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(one, drafts))
    assert all(s == 200 for s, _ in results), [b for s, b in results if s != 200][:3]
    assert all(d.split("工单")[1][:10] in b["rewrite"] for d, (_, b) in zip(drafts, results))


def test_load_benchmark_reports_latency_without_asserting_it(app_server):
    from rewrite.evaluation.bench_api import load

    row = load(app_server["url"] + "/api/rewrite", ["你等一下 我查查", "不行 退不了"], "rules", requests=20, concurrency=5)
    assert row["ok"] == 20 and row["requests"] == 20
    assert row["p50_ms"] <= row["p95_ms"] <= row["max_ms"] and row["req_per_s"] > 0

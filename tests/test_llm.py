"""The LLM backend against a real OpenAI-compatible HTTP server on 127.0.0.1 (http.server in a
thread, canned completions) and against a closed port."""
from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from rewrite import load_rewriter
from rewrite.engines.llm import LLMBackend, completions_url, parse_candidates
from rewrite.cli import main
from rewrite.errors import BackendUnavailableError


class FakeLLM:
    """A tiny chat-completions server. ``reply(messages) -> (status, body_bytes)`` decides the answer."""

    def __init__(self, reply):
        self.requests: list[dict] = []
        self.headers: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server API)
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length).decode("utf-8"))
                outer.requests.append({"path": self.path, **body})
                outer.headers.append(dict(self.headers))
                status, data = reply(body["messages"])
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def completion(content: str) -> tuple[int, bytes]:
    body = {"id": "x", "object": "chat.completion", "choices": [{"index": 0, "message": {"role": "assistant", "content": content}}]}
    return 200, json.dumps(body, ensure_ascii=False).encode("utf-8")


def echo_polite(messages):
    """Answers with candidates built from the draft's placeholders (so facts survive)."""
    import re

    draft = messages[-1]["content"].split("草稿：", 1)[1].strip()
    slots = "".join(re.findall(r"<[A-Z]+\d+>", draft))
    cands = [f"您好，{slots}已为您查询，请您稍等。", f"您好，关于{slots}，我马上为您核实。"]
    return completion(json.dumps({"candidates": cands}, ensure_ascii=False))


def closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_generate_against_a_real_server():
    with FakeLLM(echo_polite) as srv:
        be = LLMBackend(endpoint=srv.url, model="tiny", api_key="sk-test", timeout=5)
        out = be.generate(["你的订单<ID1>明天到", "好的啊"], n=2, channel="chat")
    assert len(out) == 2 and out[0][0] == "您好，<ID1>已为您查询，请您稍等。" and len(out[0]) == 2
    req = srv.requests[0]
    assert req["path"] == "/v1/chat/completions" and req["model"] == "tiny"
    system, user = req["messages"][0]["content"], req["messages"][1]["content"]
    assert "风格指南" in system and "先共情" in system  # style guide embedded
    assert "禁用语" in system and "喂" in system and "过度承诺" in system  # forbidden list embedded
    assert "<AMT1>" in system  # placeholder instructions
    assert "你的订单<ID1>明天到" in user and "在线文字" in user and "2 个" in user
    assert srv.headers[0].get("Authorization") == "Bearer sk-test"


def test_pipeline_uses_llm_candidates_and_keeps_facts():
    with FakeLLM(echo_polite) as srv:
        rw = load_rewriter("llm", endpoint=srv.url + "/v1")
        r = rw.rewrite("你的订单20240517886明天到啊")
    assert r.backend == "llm" and not r.fallback
    assert "20240517886" in r.target and r.target.startswith("您好")


def test_failing_candidates_fall_back_to_rules():
    rude = lambda messages: completion(json.dumps({"candidates": ["喂，你自己去问吧"]}, ensure_ascii=False))
    with FakeLLM(rude) as srv:
        r = load_rewriter("llm", endpoint=srv.url).rewrite("这个我不知道，你去营业厅问吧")
    assert r.fallback and r.notes and not r.findings_after and "营业厅" in r.target


def test_env_endpoint(monkeypatch):
    with FakeLLM(echo_polite) as srv:
        monkeypatch.setenv("REWRITE_LLM_ENDPOINT", srv.url)
        out = LLMBackend().generate(["好的啊"], n=1, channel="phone")
    assert out == [["您好，已为您查询，请您稍等。"]]


def test_closed_port_is_a_clear_error():
    be = LLMBackend(endpoint=f"http://127.0.0.1:{closed_port()}", timeout=2)
    with pytest.raises(BackendUnavailableError) as e:
        be.generate(["好的啊"], n=1, channel="phone")
    msg = str(e.value)
    assert "无法连接 LLM 服务" in msg and "REWRITE_LLM_ENDPOINT" in msg and "rules" in msg


def test_no_endpoint_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("REWRITE_LLM_ENDPOINT", raising=False)
    with pytest.raises(BackendUnavailableError, match="未配置 LLM 服务地址"):
        LLMBackend().generate(["好的啊"], n=1, channel="phone")


@pytest.mark.parametrize(
    "reply, words",
    [
        (lambda m: (500, b'{"error": "boom"}'), "HTTP 500"),
        (lambda m: (200, b"<html>not json</html>"), "不是合法的 JSON"),
        (lambda m: (200, b'{"choices": []}'), "choices"),
        (lambda m: completion("   "), "没有可用的改写候选"),
    ],
)
def test_bad_replies_are_clear_errors(reply, words):
    with FakeLLM(reply) as srv:
        with pytest.raises(BackendUnavailableError) as e:
            LLMBackend(endpoint=srv.url, timeout=5).generate(["好的啊"], n=1, channel="phone")
    assert words in str(e.value)


def test_cli_with_llm(capsys, monkeypatch):
    with FakeLLM(echo_polite) as srv:
        monkeypatch.setenv("REWRITE_LLM_ENDPOINT", srv.url)
        assert main(["好的啊", "--backend", "llm"]) == 0
    assert "引擎：llm" in capsys.readouterr().out
    monkeypatch.setenv("REWRITE_LLM_ENDPOINT", f"http://127.0.0.1:{closed_port()}")
    assert main(["好的啊", "--backend", "llm"]) == 2
    err = capsys.readouterr().err
    assert "无法连接 LLM 服务" in err and "Traceback" not in err


@pytest.mark.parametrize(
    "content, expected",
    [
        ('{"candidates": ["甲", "乙"]}', ["甲", "乙"]),
        ('```json\n{"candidates": ["甲"]}\n```', ["甲"]),
        ('["甲", "乙"]', ["甲", "乙"]),
        ("好的，以下是候选：\n1. 甲\n2. 乙", ["好的，以下是候选：", "甲", "乙"]),
    ],
)
def test_parse_candidates(content, expected):
    assert parse_candidates(content) == expected


def test_completions_url():
    assert completions_url("http://h:1") == "http://h:1/v1/chat/completions"
    assert completions_url("http://h:1/v1/") == "http://h:1/v1/chat/completions"
    assert completions_url("http://h:1/v1/chat/completions") == "http://h:1/v1/chat/completions"


def test_upstream_errors_never_echo_the_key_body_or_url_credentials():
    """Issue 15, defect 11: the upstream's text (which may echo the Authorization header) and the
    credentials of the endpoint URL never reach the caller."""
    key = "sk-test-secret-0123"

    def echo_auth(messages):
        return 401, json.dumps({"error": "bad key: Bearer " + key}).encode()

    with FakeLLM(echo_auth) as srv:
        with pytest.raises(BackendUnavailableError) as e:
            LLMBackend(endpoint=srv.url, api_key=key, timeout=5).generate(["好的啊"], n=1, channel="phone")
    assert "HTTP 401" in str(e.value) and key not in str(e.value) and "Bearer" not in str(e.value)
    with FakeLLM(lambda m: (200, ("<html>" + key + "</html>").encode())) as srv:
        with pytest.raises(BackendUnavailableError) as e:
            LLMBackend(endpoint=srv.url, api_key=key, timeout=5).generate(["好的啊"], n=1, channel="phone")
    assert key not in str(e.value)
    with FakeLLM(lambda m: completion(json.dumps({"candidates": ["Bearer " + key, "您好"]}))) as srv:
        out = LLMBackend(endpoint=srv.url, api_key=key, timeout=5).generate(["好的啊"], n=2, channel="phone")
    assert out == [["您好"]]
    port = closed_port()
    with pytest.raises(BackendUnavailableError) as e:
        LLMBackend(endpoint=f"http://user:pw-secret@127.0.0.1:{port}/v1?key=sk-q", timeout=2).generate(["好的啊"], n=1, channel="phone")
    assert "pw-secret" not in str(e.value) and "sk-q" not in str(e.value) and f"127.0.0.1:{port}" in str(e.value)

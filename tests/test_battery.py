"""The attack-and-abuse battery of issue 15, against the real app (`python app.py`) on 127.0.0.1.

One server for the whole module, started with an access token and a fake LLM upstream (both on
loopback); every probe is bounded in size and time, and the last test stops the server with
SIGTERM. Each test names the defect it guards against.
"""
from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from rewrite.evaluation.bench_api import gradio_call, rss_mb

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "battery-token-1234"
API_KEY = "sk-battery-secret-key"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
HEADER_TIMEOUT = 2


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _EchoingUpstream:
    """A hostile LLM endpoint: answers 401 with the request's Authorization header in the body."""

    def __init__(self):
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                body = json.dumps({"error": f"bad key {self.headers.get('Authorization')}"}).encode()
                self.send_response(401)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    upstream = _EchoingUpstream()
    port = _free_port()
    tmp = tmp_path_factory.mktemp("battery")
    env = {**os.environ, "REWRITE_TOKEN": TOKEN, "REWRITE_FEEDBACK_PATH": str(tmp / "store" / "feedback.jsonl"),
           "REWRITE_LLM_ENDPOINT": upstream.url, "REWRITE_LLM_API_KEY": API_KEY, "REWRITE_EVAL_TIMEOUT": "120"}
    log = open(tmp / "app.log", "w+")
    proc = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--port", str(port), "--backend", "rules",
                             "--header-timeout", str(HEADER_TIMEOUT)],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        if proc.poll() is not None:
            log.seek(0)
            pytest.fail(f"app.py exited early:\n{log.read()[-3000:]}")
        try:
            urllib.request.urlopen(base + "/api/health", timeout=2).read()
            break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("app.py did not answer within 90 s")
    yield {"url": base, "port": port, "proc": proc, "tmp": tmp, "log": tmp / "app.log",
           "store": Path(env["REWRITE_FEEDBACK_PATH"])}
    if proc.poll() is None:
        proc.kill()
        proc.wait(10)
    log.close()
    upstream.server.shutdown()


def request(base: str, path: str, body: bytes | dict | None = None, headers: dict | None = None,
            method: str | None = None, timeout: float = 30) -> tuple[int, dict, dict]:
    """(status, JSON body or {"_text": ...}, response headers) without raising on 4xx/5xx."""
    data = body if isinstance(body, (bytes, type(None))) else json.dumps(body, ensure_ascii=False).encode()
    req = urllib.request.Request(base + path, data=data, method=method or ("POST" if data is not None else "GET"),
                                 headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            status, raw, hdrs = r.status, r.read(), dict(r.headers)
    except urllib.error.HTTPError as e:
        status, raw, hdrs = e.code, e.read(), dict(e.headers)
    try:
        return status, json.loads(raw), hdrs
    except ValueError:
        return status, {"_text": raw.decode("utf-8", "replace")}, hdrs


def upload(base: str, name: str, content: bytes) -> str:
    """Upload a file through Gradio's upload route as the browser does; its server path."""
    boundary = "battery-boundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode() + content + f"\r\n--{boundary}--\r\n".encode()
    req = urllib.request.Request(base + "/gradio_api/upload", data=body, method="POST",
                                 headers={"Content-Type": f"multipart/form-data; boundary={boundary}", **AUTH})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())[0]


def post_partial(port: int, path: str, *, declared: int, sent: int) -> tuple[int, dict]:
    """POST declaring ``declared`` bytes but sending only ``sent``: the answer must not need the rest."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.putrequest("POST", path)
    for k, v in {**AUTH, "Content-Type": "application/json", "Content-Length": str(declared)}.items():
        conn.putheader(k, v)
    conn.endheaders()
    try:
        conn.send(b" " * sent)
    except (BrokenPipeError, ConnectionResetError):
        pass  # refused already: the answer is waiting
    r = conn.getresponse()
    try:
        return r.status, json.loads(r.read())
    finally:
        conn.close()


def file_data(path: str) -> dict:
    return {"path": path, "orig_name": Path(path).name, "meta": {"_type": "gradio.FileData"}}


# ------------------------------------------------------------------ access (defects 1 and 5)


def test_token_protects_api_ui_and_gradio_but_not_health(server):
    base = server["url"]
    assert request(base, "/api/health")[0] == 200
    for path, body in [("/api/rewrite", {"draft": "你好", "backend": "rules"}), ("/api/check", {"text": "你好"}),
                       ("/gradio_api/queue/join", {"data": [], "fn_index": 3, "session_hash": "x"}), ("/config", None), ("/", None)]:
        status, got, _ = request(base, path, body)
        assert status == 401, (path, got)
    status, got, _ = request(base, "/api/rewrite", {"draft": "你好", "backend": "rules"}, headers={"Authorization": "Bearer wrong"})
    assert status == 401 and got["type"] == "Unauthorized" and "令牌" in got["error"]
    assert request(base, "/api/rewrite", {"draft": "你好", "backend": "rules"}, headers=AUTH)[0] == 200
    # a browser logs in once with ?token=, gets an HttpOnly cookie and a URL without the token
    conn = http.client.HTTPConnection("127.0.0.1", server["port"], timeout=10)
    conn.request("GET", f"/?token={TOKEN}")
    r = conn.getresponse()
    r.read()
    assert r.status == 303 and r.getheader("Location") == "/" and "HttpOnly" in r.getheader("Set-Cookie")
    conn.close()
    assert request(base, "/config", headers={"Cookie": f"rewrite_token={TOKEN}"})[0] == 200


def test_save_function_needs_the_token_and_refuses_huge_pairs(server):
    """Defect 5: the save function was callable by anyone, with a 100 MB pair."""
    base = server["url"]
    with pytest.raises(urllib.error.HTTPError) as e:
        gradio_call(base, "save-btn", ["你等会", "请您稍等。", "电话", "telecom", "closing", "rules"])
    assert e.value.code == 401
    status, got = post_partial(server["port"], "/gradio_api/queue/join", declared=100 * 1024 * 1024, sent=65536)
    assert status == 413 and got["type"] == "PayloadTooLarge"
    msg = gradio_call(base, "save-btn", ["你" * 6000, "请您稍等。", "电话", "telecom", "closing", "rules"], headers=AUTH)
    assert "5000" in msg["output"]["data"][0] and not server["store"].exists()


@pytest.mark.parametrize("headers, kind", [
    ({"Host": "attacker.example:7860"}, "ForbiddenHost"),
    ({"Origin": "http://attacker.example"}, "ForbiddenOrigin"),
    ({"Origin": "http://127.0.0.1:1"}, "ForbiddenOrigin"),
    ({"Origin": "null"}, "ForbiddenOrigin"),
])
def test_foreign_host_or_origin_is_refused_and_never_echoed(server, headers, kind):
    """Defect 5: DNS rebinding / cross-site requests were accepted and Gradio echoed the origin."""
    for path in ("/api/rewrite", "/gradio_api/queue/join"):
        status, got, hdrs = request(server["url"], path, {"draft": "你好"}, headers={**AUTH, **headers})
        assert status == 403 and got["type"] == kind, (path, got)
        assert "attacker" not in json.dumps(hdrs).lower()
    ok = request(server["url"], "/api/check", {"text": "你好"}, headers={**AUTH, "Origin": server["url"]})
    assert ok[0] == 200


def test_evaluator_reads_no_server_file(server, tmp_path):
    """Defect 1: a server path in place of an upload (the feedback store, ../ paths) was read."""
    secret = tmp_path / "feedback.jsonl"
    secret.write_text(json.dumps({"id": "s1", "draft": "秘密草稿ABC", "reference": "秘密参考"}, ensure_ascii=False) + "\n",
                      encoding="utf-8")
    for benches, up in [([], file_data(str(secret))), ([str(secret)], None), (["../" * 8 + str(secret)[1:]], None),
                        (["eval/bench/../../../" + str(secret)[1:]], None)]:
        msg = gradio_call(server["url"], "eval-btn", [benches, up, ["identity"], None], headers=AUTH)
        assert "秘密" not in json.dumps(msg, ensure_ascii=False), msg
        assert not msg["success"] or msg["output"]["data"][0].startswith("⚠️")


# ------------------------------------------------------------------ bounded work (defects 2, 3, 4, 7)


def test_hostile_upload_is_bounded_and_health_stays_responsive(server):
    """Defects 2 and 8: a huge line froze the server; bad lines aborted the whole evaluation."""
    good = json.dumps({"id": "g1", "draft": "你等一下", "reference": "请您稍等。"}, ensure_ascii=False)
    lines = [good, '{"id": "h1", "draft": "' + "1" * 3_000_000 + '", "reference": "好"}',
             '{"id": "b1", "draft": "\\ud800你好", "reference": "您好"}', "[" * 50_000, '{"id": "b3", "n": ' + "9" * 5000 + "}"]
    path = upload(server["url"], "hostile.jsonl", "\n".join(lines).encode() + b"\n")
    result: dict = {}
    t = threading.Thread(target=lambda: result.update(gradio_call(server["url"], "eval-btn", [[], file_data(path), ["rules"], None],
                                                                  headers=AUTH, timeout=150)))
    t.start()
    worst = 0.0
    while t.is_alive():
        t0 = time.perf_counter()
        assert request(server["url"], "/api/health", timeout=5)[0] == 200
        worst = max(worst, time.perf_counter() - t0)
        time.sleep(0.2)
    t.join()
    assert worst < 2.0, f"/api/health took {worst:.1f} s during the evaluation"
    summary = result["output"]["data"][0]
    assert summary.startswith("✅") and "跳过" in summary, summary


def test_long_draft_of_many_small_edits_is_fast(server):
    """Defect 3: '你a' * 2500 cost about 8 minutes of CPU in text.diff_edits."""
    t0 = time.perf_counter()
    status, got, _ = request(server["url"], "/api/rewrite", {"draft": "你a" * 2500, "backend": "rules"}, headers=AUTH, timeout=60)
    assert status == 200 and got["rewrite"], got
    assert time.perf_counter() - t0 < 15


@pytest.mark.skipif(not (ROOT / "rewrite" / "shipped" / "config.json").is_file(), reason="no shipped model")
def test_long_unpunctuated_draft_through_the_default_engine(server):
    """Defect 4: a chunk of 255+ characters without punctuation crashed the seq2seq engine (500)."""
    draft = " ".join(["您好请稍等我帮您查询一下订单的物流信息"] * 16)
    assert len(draft) > 283
    status, got, _ = request(server["url"], "/api/rewrite", {"draft": draft, "backend": "seq2seq"}, headers=AUTH, timeout=120)
    assert status == 200 and got["rewrite"], got


def test_oversized_bodies_are_refused_while_streaming(server):
    """Defect 7: the 256 KB limit was applied only after the whole body was in memory."""
    # declared 300 MB, only 64 KB sent: the answer must come without the rest
    status, got = post_partial(server["port"], "/api/rewrite", declared=300 * 1024 * 1024, sent=65536)
    assert status == 413 and got["type"] == "PayloadTooLarge"
    # chunked, no length: refused once 256 KB have arrived, though the body never ends
    with socket.create_connection(("127.0.0.1", server["port"]), timeout=10) as s:
        s.sendall(f"POST /api/rewrite HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n"
                  "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".encode())
        chunk = b" " * 32768
        for _ in range(10):
            s.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
        head = s.recv(4096).decode("latin-1")
    assert head.startswith("HTTP/1.1 413"), head


# ------------------------------------------------------------------ errors (defect 8 and minor items)


@pytest.mark.parametrize("raw, field", [
    (b'{"draft": "\xe4\xbd\xa0\xe5\xa5\xbd", "n": Infinity}', "Infinity"),
    (b'{"draft": "\xe4\xbd\xa0\xe5\xa5\xbd", "n": 1e400}', "1e400"),
    (b'{"draft": "\xe4\xbd\xa0\xe5\xa5\xbd", "n": ' + b"7" * 5000 + b"}", "5000"),
    (b'{"draft": ' + b"[" * 50_000 + b"}", "嵌套"),
    (b'{"draft": "\\ud800\xe4\xbd\xa0"}', "ud800"),
    (b'{"draft": "\xe4\xbd\xa0\xe5\xa5\xbd", "n": NaN}', "NaN"),
])
def test_hostile_json_is_a_json_400(server, raw, field):
    status, got, hdrs = request(server["url"], "/api/rewrite", raw, headers=AUTH)
    assert status == 400 and got["type"] == "BadJSON" and "application/json" in hdrs.get("content-type", ""), got
    assert field in got["error"] or "JSON" in got["error"]


@pytest.mark.parametrize("n", [-1, 0, 5, 10**9, 2.7, True, "x", None])
def test_n_outside_1_to_4_is_a_400(server, n):
    status, got, _ = request(server["url"], "/api/rewrite", {"draft": "你好", "backend": "rules", "n": n}, headers=AUTH)
    assert status == 400 and got["error"] == "字段 n 必须是 1 到 4 之间的整数。", got


def test_identity_engine_is_not_served_since_health_does_not_list_it(server):
    _, health, _ = request(server["url"], "/api/health")
    status, got, _ = request(server["url"], "/api/rewrite", {"draft": "你好", "backend": "identity"}, headers=AUTH)
    assert "identity" not in health["backends"] and status == 400 and got["type"] == "UnknownBackendError"


def test_llm_upstream_error_is_summarised_never_echoed(server):
    """Defect 11: an upstream echoing the Authorization header put the key into the 503 body."""
    status, got, _ = request(server["url"], "/api/rewrite", {"draft": "你好", "backend": "llm"}, headers=AUTH)
    text = json.dumps(got, ensure_ascii=False)
    assert status == 503 and "HTTP 401" in got["error"], got
    assert API_KEY not in text and "Bearer" not in text


# ------------------------------------------------------------------ nothing lost (defect 9)


def test_save_after_a_torn_line_keeps_every_record(server):
    """Defect 9: a writer killed mid-save left a half line that swallowed the next record."""
    from rewrite.serve.feedback import read_pairs

    store = server["store"]
    store.parent.mkdir(parents=True, exist_ok=True)
    store.write_bytes(b'{"id": "torn", "draft": "half a rec')
    msg = gradio_call(server["url"], "save-btn", ["你等会", "请您稍等。", "电话", "telecom", "closing", "rules"], headers=AUTH)
    assert msg["output"]["data"][0].startswith("✅"), msg
    pairs, problems = read_pairs(store)
    assert len(pairs) == 1 and problems == [] and "half a rec" in Path(str(store) + ".torn").read_text(encoding="utf-8")


# ------------------------------------------------------------------ connections and memory (defect 12, minor)


def test_slow_headers_are_cut_and_dropped_clients_leave_no_traceback(server):
    seen = len(server["log"].read_text(encoding="utf-8"))
    with socket.create_connection(("127.0.0.1", server["port"]), timeout=HEADER_TIMEOUT + 8) as s:
        s.sendall(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never finishes its headers
        t0 = time.perf_counter()
        assert s.recv(1024) == b""  # closed by the server
        assert time.perf_counter() - t0 < HEADER_TIMEOUT + 5
    for path in ("/api/rewrite", "/gradio_api/queue/join"):
        with socket.create_connection(("127.0.0.1", server["port"]), timeout=10) as s:
            s.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n"
                      "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"draft\": ".encode())
    time.sleep(1.0)
    assert request(server["url"], "/api/health")[0] == 200
    assert "Traceback" not in server["log"].read_text(encoding="utf-8")[seen:]


def test_memory_stays_flat_over_evaluations(server):
    """Defect 12: memory grew about 30-50 MB per evaluation run through the app. The growth came
    with the seq2seq system (each run loads fresh model instances; rules + identity stayed flat),
    so the probe uses it when the shipped model is there."""
    shipped = (ROOT / "rewrite" / "shipped" / "config.json").is_file()
    systems = ["seq2seq", "rules"] if shipped else ["rules", "identity"]
    pid = server["proc"].pid
    # earlier tests of this module already ran evaluations, so the UI's own imports are warm
    before = rss_mb(pid)
    msg = gradio_call(server["url"], "eval-btn", [["eval/bench/seed.jsonl"], None, systems, 5], headers=AUTH)
    assert msg["output"]["data"][0].startswith("✅"), msg
    assert rss_mb(pid) - before < 20, (before, rss_mb(pid))


def test_sigterm_stops_the_server_within_seconds_despite_a_slow_request(server):
    """Minor: SIGTERM hung while a slow request ran. Runs last: it stops the module's server."""
    proc = server["proc"]
    with socket.create_connection(("127.0.0.1", server["port"]), timeout=10) as s:
        s.sendall(f"POST /api/rewrite HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n"
                  "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"draft\": ".encode())
        time.sleep(0.5)
        t0 = time.perf_counter()
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)
        assert time.perf_counter() - t0 < 8

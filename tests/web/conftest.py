"""Fixtures for the app tests: the real app (`python app.py`) on a free loopback port."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def shipped_model_present() -> bool:
    return (ROOT / "rewrite" / "shipped" / "config.json").is_file()


def post_json(url: str, payload, timeout: float = 60.0) -> tuple[int, dict]:
    data = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


@pytest.fixture(scope="session")
def app_server(tmp_path_factory):
    """Start app.py in a subprocess (as a user would), yield its base URL, stop it afterwards.

    The UI's default engine is the shipped model when it is present, else the rules backend.
    """
    port = free_port()
    env = dict(os.environ)
    env["REWRITE_FEEDBACK_PATH"] = str(tmp_path_factory.mktemp("feedback") / "feedback.jsonl")
    env["REWRITE_JUDGMENTS_DIR"] = str(tmp_path_factory.mktemp("judgments"))
    backend = "seq2seq" if shipped_model_present() else "rules"
    log = open(tmp_path_factory.mktemp("log") / "app.log", "w+")
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py"), "--port", str(port), "--backend", backend],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        if proc.poll() is not None:
            log.seek(0)
            pytest.fail(f"app.py exited early:\n{log.read()[-3000:]}")
        try:
            with urllib.request.urlopen(base + "/api/health", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("app.py did not answer /api/health within 90 s")
    yield {"url": base, "backend": backend, "feedback": env["REWRITE_FEEDBACK_PATH"], "judgments": env["REWRITE_JUDGMENTS_DIR"]}
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()

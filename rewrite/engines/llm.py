"""The LLM backend: any OpenAI-compatible ``/v1/chat/completions`` endpoint, stdlib only.

The prompts are data: ``prompts/llm_system.txt`` embeds ``prompts/style_guide.md`` and a list
rendered from ``prompts/forbidden.yaml``; ``prompts/llm_user.txt`` carries the channel, the number
of candidates and the masked draft. The model is asked for ``{"candidates": [...]}``; its
candidates go through the shared pipeline checks like any backend's, and fall back to the rules
backend when none passes.

Configuration (keyword arguments win over the environment):
``endpoint`` / ``REWRITE_LLM_ENDPOINT`` (e.g. ``http://127.0.0.1:8000`` or ``…/v1``),
``model`` / ``REWRITE_LLM_MODEL``, ``api_key`` / ``REWRITE_LLM_API_KEY``, ``timeout`` (seconds).
Nothing connects until :meth:`LLMBackend.generate` is called.
"""
from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Sequence

from rewrite.errors import BackendUnavailableError
from rewrite.norms.load import load_forbidden, prompts_dir

ENDPOINT_ENV = "REWRITE_LLM_ENDPOINT"
MODEL_ENV = "REWRITE_LLM_MODEL"
API_KEY_ENV = "REWRITE_LLM_API_KEY"
DEFAULT_MODEL = "default"
CHANNEL_NAMES = {"phone": "电话（语音）", "chat": "在线文字（聊天）"}
_FIELD = re.compile(r"\{(style_guide|forbidden|channel_name|n|draft)\}")
_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$")
_NUMBERING = re.compile(r"^\s*(?:\d+[.、)）]|[-*•])\s*")


def _fill(template: str, values: dict[str, str]) -> str:
    """Single-pass substitution of ``{field}`` markers (inserted text is never re-expanded)."""
    return _FIELD.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def render_forbidden(directory: Path | None = None, per_category: int = 6) -> str:
    """The forbidden terms and tones of ``forbidden.yaml`` as a compact list for the prompt."""
    norms = load_forbidden(directory)
    lines = []
    for cat, desc in norms.categories.items():
        rules = [r for r in norms.rules if r.category == cat and not r.channels]  # channel-only rules would confuse
        if not rules:
            continue
        examples: list[str] = []
        for r in rules:
            for ex in r.examples[:2]:
                if ex not in examples:
                    examples.append(ex)
        sugg = next((s for r in rules for s in r.suggestions if not s.startswith("（")), "")
        line = f"- {cat}（{desc}）：例如“{'”“'.join(examples[:per_category])}”"
        if sugg:
            line += f"；可改为“{sugg}”"
        lines.append(line)
    return "\n".join(lines)


#: Largest reply read from the endpoint, in bytes.
MAX_REPLY_BYTES = 1024 * 1024


def public_url(url: str) -> str:
    """``url`` as it may be shown: scheme, host, port and path; no user, password or query."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def _http_hint(code: int) -> str:
    if code in (401, 403):
        return f"认证失败，请检查 {API_KEY_ENV}"
    if code == 404:
        return "地址或模型不存在"
    if code == 429:
        return "请求过多，请稍后重试"
    if code >= 500:
        return "服务端错误"
    return "请求被拒绝"


def _reason(e: BaseException) -> str:
    """A short, fixed description of a connection failure (never the upstream's own text)."""
    reason = getattr(e, "reason", e)
    if isinstance(reason, TimeoutError):
        return "连接超时"
    if isinstance(reason, ConnectionRefusedError):
        return "连接被拒绝"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    return type(reason).__name__


def completions_url(endpoint: str) -> str:
    """``…/v1/chat/completions`` from a base URL, a ``…/v1`` URL or the full URL."""
    e = endpoint.strip().rstrip("/")
    if e.endswith("/chat/completions"):
        return e
    if e.endswith("/v1"):
        return e + "/chat/completions"
    return e + "/v1/chat/completions"


def parse_candidates(content: str) -> list[str]:
    """Candidates from the model's reply: ``{"candidates": [...]}``, a JSON list, or lines."""
    text = _FENCE.sub("", content.strip())
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        m = re.search(r"\{.*\}|\[.*\]", text, re.S)
        data = None
        if m:
            try:
                data = json.loads(m.group(0))
            except json.JSONDecodeError:
                data = None
    if isinstance(data, dict):
        data = data.get("candidates")
    if isinstance(data, list):
        out = [str(x).strip() for x in data if isinstance(x, (str, int, float)) and str(x).strip()]
    elif isinstance(data, str):
        out = [data.strip()]
    else:
        out = [_NUMBERING.sub("", line).strip() for line in text.splitlines()]
        out = [x for x in out if x and not x.startswith(("{", "}", "[", "]"))]
    return out


class LLMBackend:
    """Rewrites through an OpenAI-compatible chat-completions endpoint (``load_rewriter("llm")``)."""

    name = "llm"
    use_fallback = True

    def __init__(
        self,
        endpoint: str | None = None,
        model: str | None = None,
        api_key: str | None = None,
        timeout: float = 10,
        temperature: float = 0.7,
        prompts: str | Path | None = None,
    ):
        self.endpoint = endpoint or os.environ.get(ENDPOINT_ENV) or None
        self.model = model or os.environ.get(MODEL_ENV) or DEFAULT_MODEL
        self.api_key = api_key or os.environ.get(API_KEY_ENV) or None
        self.timeout = float(timeout)
        self.temperature = float(temperature)
        self.prompts = Path(prompts) if prompts else None

    # ── prompts ──
    def _read(self, name: str) -> str:
        from rewrite.errors import NormsError

        path = (self.prompts or prompts_dir()) / name
        try:
            return path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise NormsError(f"缺少规范文件 {path}：请恢复 prompts/{name}。") from None
        except UnicodeDecodeError:
            raise NormsError(f"{path} 不是 UTF-8 编码的文本文件。") from None

    def messages(self, chunk: str, *, n: int, channel: str) -> list[dict[str, str]]:
        """The chat messages sent for one masked chunk."""
        values = {
            "style_guide": self._read("style_guide.md").strip(),
            "forbidden": render_forbidden(self.prompts),
            "channel_name": CHANNEL_NAMES.get(channel, channel),
            "n": str(n),
            "draft": chunk,
        }
        return [
            {"role": "system", "content": _fill(self._read("llm_system.txt"), values).strip()},
            {"role": "user", "content": _fill(self._read("llm_user.txt"), values).strip()},
        ]

    # ── transport ──
    def _post(self, payload: dict[str, Any]) -> dict[str, Any]:
        if not self.endpoint:
            raise BackendUnavailableError(
                f"未配置 LLM 服务地址：请设置环境变量 {ENDPOINT_ENV}（如 http://127.0.0.1:8000）或传入 endpoint，"
                "也可以改用 --backend rules。"
            )
        url = completions_url(self.endpoint)
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        req = urllib.request.Request(url, data=json.dumps(payload, ensure_ascii=False).encode("utf-8"), headers=headers, method="POST")
        where = public_url(url)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                raw = resp.read(MAX_REPLY_BYTES + 1)
        except urllib.error.HTTPError as e:
            # The upstream's body is never echoed: it may carry the key or the request back.
            raise BackendUnavailableError(f"LLM 服务 {where} 返回 HTTP {e.code}（{_http_hint(e.code)}）。请检查模型名、密钥和服务状态。") from None
        except (urllib.error.URLError, OSError) as e:
            raise BackendUnavailableError(
                f"无法连接 LLM 服务 {where}：{_reason(e)}。请确认服务已启动、地址正确（{ENDPOINT_ENV}），或改用 --backend rules。"
            ) from None
        if len(raw) > MAX_REPLY_BYTES:
            raise BackendUnavailableError(f"LLM 服务 {where} 的回复超过 {MAX_REPLY_BYTES // 1024} KB，已放弃。")
        try:
            data = json.loads(raw.decode("utf-8"))
            content = data["choices"][0]["message"]["content"]
            if not isinstance(content, str):
                raise TypeError
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise BackendUnavailableError(f"LLM 服务 {where} 的回复不是合法的 JSON（{len(raw)} 字节），不是 OpenAI 兼容格式。") from None
        except (KeyError, IndexError, TypeError):
            raise BackendUnavailableError(f"LLM 服务 {where} 的回复缺少 choices[0].message.content，不是 OpenAI 兼容格式。") from None
        return {"content": content}

    def generate(self, chunks: Sequence[str], *, n: int = 1, channel: str = "phone") -> list[list[str]]:
        """Up to ``n`` candidates per masked chunk, best first (one request per chunk).

        Raises :class:`~rewrite.errors.BackendUnavailableError` when the endpoint is not configured,
        unreachable, or answers with something that holds no candidate.
        """
        out: list[list[str]] = []
        for chunk in chunks:
            if not chunk.strip():
                out.append([chunk])
                continue
            payload = {
                "model": self.model,
                "messages": self.messages(chunk, n=n, channel=channel),
                "temperature": self.temperature,
                "stream": False,
            }
            cands = parse_candidates(self._post(payload)["content"])
            if self.api_key:  # an upstream that echoes the request must not leak the key
                cands = [c for c in cands if self.api_key not in c]
            if not cands:
                raise BackendUnavailableError("LLM 服务的回复中没有可用的改写候选：请检查模型或提示词 prompts/llm_*.txt。")
            out.append(cands[: max(1, n)])
        return out

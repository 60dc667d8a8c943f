"""The JSON HTTP API for helpdesk systems, served by the same process as the app.

    POST /api/rewrite  {"draft": "...", "n": 3, "channel": "chat", "backend": "seq2seq"}
    POST /api/check    {"text": "...", "channel": "chat"}   (``draft`` is accepted too; channel optional)
    GET  /api/health

Errors are JSON ``{"error": "<message>", "type": "<ErrorClass>"}`` with a proper status code:
400 bad input, 413 draft too long, 503 backend unavailable / model missing, 500 unexpected.
"""

# No `from __future__ import annotations` here: FastAPI resolves the route signatures
# (`request: Request`) at definition time, and Request is imported inside create_api.
import json
import logging
from typing import Any

from rewrite.errors import RewriteError

log = logging.getLogger(__name__)
MAX_BODY_BYTES = 256 * 1024


def create_api():
    """A FastAPI app with the JSON routes (the Gradio UI is mounted on it by :func:`create_app`)."""
    from fastapi import FastAPI, Request
    from fastapi.concurrency import run_in_threadpool
    from fastapi.responses import JSONResponse

    from rewrite import __version__
    from rewrite.serve import service

    app = FastAPI(title="rewrite API", version=__version__, docs_url="/api/docs", openapi_url="/api/openapi.json")

    def error(status: int, message: str, kind: str) -> JSONResponse:
        return JSONResponse({"error": message, "type": kind}, status_code=status)

    async def body_of(request: Request) -> dict[str, Any] | JSONResponse:
        raw = await request.body()
        if len(raw) > MAX_BODY_BYTES:
            return error(413, f"请求体过大（{len(raw)} 字节），上限 {MAX_BODY_BYTES} 字节。", "PayloadTooLarge")
        try:
            data = json.loads(raw.decode("utf-8") or "null")
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            return error(400, f"请求体不是合法的 UTF-8 JSON：{e}", "BadJSON")
        if not isinstance(data, dict):
            return error(400, "请求体必须是 JSON 对象，例如 {\"draft\": \"...\"}。", "BadJSON")
        return data

    async def guarded(fn, *args, **kwargs):
        try:
            return JSONResponse(await run_in_threadpool(fn, *args, **kwargs))
        except RewriteError as e:
            return error(e.status, str(e), type(e).__name__)
        except Exception as e:  # never a traceback to the caller; log it for us
            log.exception("unexpected error in API")
            return error(500, f"服务内部错误：{type(e).__name__}。请稍后重试或联系管理员。", "InternalError")

    @app.get("/api/health")
    def health() -> dict[str, Any]:
        from rewrite.norms.critic import critic_status

        # The checker's second source: a missing or corrupt critic is reported here, never raised.
        return {"status": "ok", "version": __version__, "backends": list(service.APP_BACKENDS), "critic": critic_status()}

    @app.post("/api/rewrite")
    async def api_rewrite(request: Request):
        data = await body_of(request)
        if isinstance(data, JSONResponse):
            return data
        draft = data.get("draft")
        if not isinstance(draft, str):
            return error(400, "缺少字段 draft（字符串）：请提供需要改写的草稿。", "InvalidDraftError")
        try:
            n = int(data.get("n", 1))
        except (TypeError, ValueError):
            return error(400, "字段 n 必须是 1 到 4 之间的整数。", "InvalidDraftError")
        backend = data.get("backend", "seq2seq")
        channel = data.get("channel", "phone")
        if not isinstance(backend, str) or not isinstance(channel, str):
            return error(400, "字段 backend 与 channel 必须是字符串。", "InvalidDraftError")
        return await guarded(service.rewrite_one, draft, backend=backend, channel=channel, n=n)

    @app.post("/api/check")
    async def api_check(request: Request):
        data = await body_of(request)
        if isinstance(data, JSONResponse):
            return data
        text = data.get("text", data.get("draft"))
        if not isinstance(text, str):
            return error(400, "缺少字段 text（字符串）：请提供需要检查的文本。", "InvalidDraftError")
        channel = data.get("channel")
        if channel is not None and not isinstance(channel, str):
            return error(400, "字段 channel 必须是字符串（phone 或 chat）。", "InvalidDraftError")
        return await guarded(service.check_one, text, channel)

    return app


def create_app(default_backend: str = "seq2seq"):
    """The whole product in one ASGI app: the JSON API under /api and the Gradio UI at /.

    ``default_backend`` is the engine the UI selects first (the API's default stays seq2seq).
    """
    import gradio as gr

    from rewrite.serve.ui import CSS, HEAD, build_demo

    app = create_api()
    return gr.mount_gradio_app(app, build_demo(default_backend), path="", css=CSS, head=HEAD, footer_links=[])

"""The JSON HTTP API for helpdesk systems, served by the same process as the app.

    POST /api/rewrite  {"draft": "...", "n": 3, "channel": "chat", "backend": "seq2seq"}
    POST /api/check    {"text": "...", "channel": "chat"}   (``draft`` is accepted too; channel optional)
    GET  /api/health

Errors are JSON ``{"error": "<message>", "type": "<ErrorClass>"}`` with a proper status code:
400 bad input, 401 no or wrong access token, 403 foreign Host/Origin, 413 body or draft too long,
503 backend unavailable / model missing, 500 unexpected. What reaches the routes has passed
:class:`rewrite.serve.guard.Guard` (token, Host/Origin, body size): see ``docs/security.md``.
"""

# No `from __future__ import annotations` here: FastAPI resolves the route signatures
# (`request: Request`) at definition time, and Request is imported inside create_api.
import json
import logging
from typing import Any

from rewrite.errors import RewriteError
from rewrite.serve.guard import MAX_API_BODY_BYTES

log = logging.getLogger(__name__)
MAX_BODY_BYTES = MAX_API_BODY_BYTES
#: The message of every bad ``n``.
N_MESSAGE = "字段 n 必须是 1 到 4 之间的整数。"


def parse_n(value: Any) -> int | None:
    """``n`` of ``/api/rewrite`` as an int in 1..4 (an int, or a string of one), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 2:
        value = int(value.strip())
    if isinstance(value, int) and 1 <= value <= 4:
        return value
    return None


def create_api():
    """A FastAPI app with the JSON routes (the Gradio UI is mounted on it by :func:`create_app`)."""
    from fastapi import FastAPI, Request
    from fastapi.concurrency import run_in_threadpool
    from fastapi.responses import JSONResponse
    from starlette.requests import ClientDisconnect

    from rewrite import __version__
    from rewrite.serve import service

    app = FastAPI(title="rewrite API", version=__version__, docs_url="/api/docs", openapi_url="/api/openapi.json")

    def error(status: int, message: str, kind: str) -> JSONResponse:
        return JSONResponse({"error": message, "type": kind}, status_code=status)

    async def body_of(request: Request) -> dict[str, Any] | JSONResponse:
        """The JSON object of the body, read at most MAX_BODY_BYTES + 1 bytes (the guard in
        front refuses larger bodies while they stream in; this is the same cap, checked again)."""
        from rewrite.data.jsonl import json_problem, loads_strict

        chunks, size = [], 0
        try:
            async for chunk in request.stream():
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    return error(413, f"请求体过大，上限 {MAX_BODY_BYTES} 字节。", "PayloadTooLarge")
                chunks.append(chunk)
        except ClientDisconnect:
            return error(400, "客户端在发送请求体时断开。", "ClientDisconnect")
        raw = b"".join(chunks)
        try:
            data = loads_strict(raw.decode("utf-8") or "null")
        except UnicodeDecodeError as e:
            return error(400, f"请求体不是合法的 UTF-8：第 {e.start} 字节。", "BadJSON")
        except ValueError as e:
            return error(400, f"请求体不是可接受的 JSON：{json_problem(e)}。", "BadJSON")
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
    async def health() -> dict[str, Any]:  # async: answered on the event loop, never queued for a thread
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
        n = parse_n(data.get("n", 1))
        if n is None:
            return error(400, N_MESSAGE, "InvalidDraftError")
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


def create_app(default_backend: str = "seq2seq", *, token: str | None = None, host: str = "127.0.0.1",
               allow_hosts: tuple[str, ...] | list[str] = ()):
    """The whole product in one ASGI app: the JSON API under /api and the Gradio UI at /, behind
    :class:`~rewrite.serve.guard.Guard` (Host/Origin checks for ``host`` and ``allow_hosts``, the
    access ``token`` if given, body size limits).

    ``default_backend`` is the engine the UI selects first (the API's default stays seq2seq).
    """
    import gradio as gr

    from rewrite.serve.guard import MAX_UPLOAD_BYTES, Guard, served_names
    from rewrite.serve.ui import CSS, HEAD, build_demo

    app = create_api()
    demo = build_demo(default_backend)
    app = gr.mount_gradio_app(app, demo, path="", css=CSS, head=HEAD, footer_links=[], max_file_size=MAX_UPLOAD_BYTES)
    # Gradio checks that a file a client names was uploaded through it only once the Blocks "has
    # launched", which mount_gradio_app never marks: without this, any server path sent in place of
    # an upload is copied into the cache and handed to the handler (the evaluator read any .jsonl).
    demo.has_launched = True
    return Guard(app, allowed_hosts=served_names(host, allow_hosts), token=token)

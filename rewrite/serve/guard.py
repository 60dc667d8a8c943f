"""The gate in front of the whole app (API and UI): who may reach it, and how much they may send.

:class:`Guard` is plain ASGI middleware, outermost, so it sees every request before FastAPI or
Gradio does:

- **Host / Origin.** The ``Host`` header must name the served address (or one allowed with
  ``--allow-host``): a page on another site that rebinds its DNS name to this machine is refused
  with 403. A request that carries ``Origin`` (every cross-site browser request does) must come
  from this very origin, so no other web page (not even another app on this machine) can post to
  it, and no foreign origin is ever echoed in a CORS header.
- **Token.** With an access token set (``REWRITE_TOKEN`` or ``--token``), every path but
  ``/api/health`` needs it: ``Authorization: Bearer <token>``, the ``X-Rewrite-Token`` header, or
  the ``rewrite_token`` cookie, which a browser gets by opening ``/?token=<token>`` once. That covers
  the JSON API, the UI, Gradio's queue (the save function, the evaluator) and its file routes.
- **Body size.** A body larger than the limit of its path is refused with 413 as soon as the
  declared length or the bytes read so far exceed it: the rest is never read into memory.
- **Quiet drops.** A client that disconnects mid-request ends its request without a traceback in
  the log.
"""
from __future__ import annotations

import hmac
import json
import logging
from typing import Any, Awaitable, Callable
from urllib.parse import parse_qsl, urlencode, urlsplit

log = logging.getLogger(__name__)

TOKEN_ENV = "REWRITE_TOKEN"
COOKIE = "rewrite_token"
#: Bytes a JSON API request may carry.
MAX_API_BODY_BYTES = 256 * 1024
#: Bytes an uploaded benchmark file may have (Gradio's upload route).
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
#: Bytes any other request (the UI's queue calls: a draft, a reply) may carry.
MAX_UI_BODY_BYTES = 1024 * 1024
#: Paths open without the token: enough to see that the server is up, nothing else.
OPEN_PATHS = ("/api/health",)
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

_LOGIN_PAGE = """<!doctype html><html lang="zh"><meta charset="utf-8"><title>rewrite · 需要访问令牌</title>
<body style="font-family: sans-serif; max-width: 32rem; margin: 4rem auto">
<h2>rewrite · 客服回复规范改写</h2><p>{message}</p>
<form method="get" action="/"><input type="password" name="token" placeholder="访问令牌" autofocus>
<button type="submit">进入</button></form></body></html>"""


def body_limit(path: str) -> int:
    """The most bytes a request body to ``path`` may have."""
    if path.startswith("/api/"):
        return MAX_API_BODY_BYTES
    if path.rstrip("/").endswith("/upload"):
        return MAX_UPLOAD_BYTES
    return MAX_UI_BODY_BYTES


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` only reaches this machine (127.0.0.0/8, ::1, localhost)."""
    import ipaddress

    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def served_names(host: str, extra: tuple[str, ...] | list[str] = ()) -> set[str]:
    """The host names a request may use to reach a server bound to ``host``: the loopback names,
    ``host`` itself, and ``extra`` (``--allow-host``). A wildcard bind (0.0.0.0, ::) also admits
    this machine's name and the addresses it resolves to."""
    names = {n.lower() for n in (*LOOPBACK_NAMES, host.strip("[]"), *extra) if n}
    if host in ("0.0.0.0", "::", ""):
        import socket

        hostname = socket.gethostname()
        names |= {hostname.lower(), socket.getfqdn().lower()}
        try:
            names |= set(socket.gethostbyname_ex(hostname)[2])
        except OSError:
            pass
    names.discard("0.0.0.0")
    names.discard("::")
    return names


def _host_name(netloc: str) -> str:
    """``example.com`` from ``example.com:7860``, ``::1`` from ``[::1]:7860``."""
    netloc = netloc.strip().lower()
    if netloc.startswith("["):
        return netloc[1 : netloc.find("]")] if "]" in netloc else netloc
    return netloc.rsplit(":", 1)[0] if netloc.count(":") == 1 else netloc


def _same_origin(origin: str, host_header: str) -> bool:
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False
    default = {"http": ":80", "https": ":443"}[parts.scheme]

    def canon(netloc: str) -> str:
        netloc = netloc.lower()
        return netloc[: -len(default)] if netloc.endswith(default) else netloc

    return canon(parts.netloc) == canon(host_header)


class Guard:
    """ASGI middleware enforcing the rules in the module docstring.

    ``allowed_hosts``: host names (no port) a request may address; ``None`` skips the Host check
    (only for tests of the inner app). ``token``: the access token, or ``None`` for none.
    """

    def __init__(self, app: Callable, *, allowed_hosts: set[str] | None, token: str | None = None):
        self.app = app
        self.allowed_hosts = {h.lower() for h in allowed_hosts} if allowed_hosts is not None else None
        self.token = token or None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        refusal = self._refusal(scope, headers)
        if refusal is not None:
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
            else:
                await refusal(send)
            return
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return
        login = self._login_redirect(scope, headers)
        if login is not None:
            await login(send)
            return
        await self._bounded(scope, headers, receive, send)

    # -- checks ---------------------------------------------------------------------------------
    def _refusal(self, scope: Scope, headers: dict[str, str]) -> Callable[[Send], Awaitable[None]] | None:
        host = headers.get("host", "")
        if self.allowed_hosts is not None and host and _host_name(host) not in self.allowed_hosts:
            return _json(403, "请求的主机名不是本服务的地址（Host 头不符），已拒绝。如需通过其他名称访问，请用 --allow-host 指定。", "ForbiddenHost")
        origin = headers.get("origin")
        if origin is not None and not _same_origin(origin, host):
            return _json(403, "不接受来自其他网页的请求（Origin 与本服务地址不符）。", "ForbiddenOrigin")
        if self.token and scope["path"] not in OPEN_PATHS and not self._has_token(scope, headers):
            if _query_token(scope) is not None and scope["type"] == "http":
                return _html(401, "访问令牌不正确，请重新输入。")
            if scope["path"].startswith(("/api/", "/gradio_api/")) or scope["type"] == "websocket":
                return _json(401, "需要访问令牌：请在请求头中加入 Authorization: Bearer <令牌>。", "Unauthorized")
            return _html(401, "本服务需要访问令牌，请输入管理员提供的令牌。")
        return None

    def _has_token(self, scope: Scope, headers: dict[str, str]) -> bool:
        given = []
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            given.append(auth[7:].strip())
        if "x-rewrite-token" in headers:
            given.append(headers["x-rewrite-token"].strip())
        given += [v for k, v in _cookies(headers.get("cookie", "")) if k == COOKIE]
        query = _query_token(scope)
        if query is not None and scope.get("method") == "GET":
            given.append(query)
        want = self.token.encode()
        return any(hmac.compare_digest(g.encode(), want) for g in given)

    def _login_redirect(self, scope: Scope, headers: dict[str, str]) -> Callable[[Send], Awaitable[None]] | None:
        """``GET /?token=…`` with the right token: set the cookie, drop the token from the URL."""
        query = _query_token(scope)
        if not self.token or query is None or scope.get("method") != "GET":
            return None
        rest = [(k, v) for k, v in parse_qsl(scope.get("query_string", b"").decode("latin-1")) if k != "token"]
        location = scope["path"] + (("?" + urlencode(rest)) if rest else "")
        cookie = f"{COOKIE}={query}; Path=/; HttpOnly; SameSite=Strict"

        async def respond(send: Send) -> None:
            await send({"type": "http.response.start", "status": 303,
                        "headers": [(b"location", location.encode("latin-1")), (b"set-cookie", cookie.encode("latin-1")),
                                    (b"content-length", b"0")]})
            await send({"type": "http.response.body", "body": b""})

        return respond

    # -- body limit and quiet disconnects ---------------------------------------------------------
    async def _bounded(self, scope: Scope, headers: dict[str, str], receive: Receive, send: Send) -> None:
        limit = body_limit(scope["path"])
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await _too_large(limit)(send)
            return
        state = {"read": 0, "started": False, "answered": False, "gone": False}

        async def bounded_receive() -> dict[str, Any]:
            if state["answered"]:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.disconnect":
                state["gone"] = True
            elif message["type"] == "http.request":
                state["read"] += len(message.get("body", b""))
                if state["read"] > limit:  # refuse now; the rest of the body is never read
                    if not state["started"]:
                        await _too_large(limit)(send)
                    state["answered"] = True
                    return {"type": "http.disconnect"}
            return message

        async def tracked_send(message: dict[str, Any]) -> None:
            if state["answered"]:
                return
            if message["type"] == "http.response.start":
                state["started"] = True
            await send(message)

        try:
            await self.app(scope, bounded_receive, tracked_send)
        except Exception as e:  # noqa: BLE001 - only swallowed when the client is gone or answered
            if not (state["answered"] or state["gone"] or _is_disconnect(e)):
                raise
            log.debug("request ended early: %s %s (%s)", scope.get("method"), scope["path"], type(e).__name__)


def _is_disconnect(e: BaseException) -> bool:
    from starlette.requests import ClientDisconnect

    return isinstance(e, (ClientDisconnect, ConnectionError))


def _query_token(scope: Scope) -> str | None:
    for k, v in parse_qsl(scope.get("query_string", b"").decode("latin-1")):
        if k == "token":
            return v
    return None


def _cookies(header: str) -> list[tuple[str, str]]:
    out = []
    for part in header.split(";"):
        k, sep, v = part.strip().partition("=")
        if sep:
            out.append((k.strip(), v.strip()))
    return out


def _json(status: int, message: str, kind: str) -> Callable[[Send], Awaitable[None]]:
    body = json.dumps({"error": message, "type": kind}, ensure_ascii=False).encode("utf-8")
    return _respond(status, body, b"application/json")


def _html(status: int, message: str) -> Callable[[Send], Awaitable[None]]:
    return _respond(status, _LOGIN_PAGE.format(message=message).encode("utf-8"), b"text/html; charset=utf-8")


def _too_large(limit: int) -> Callable[[Send], Awaitable[None]]:
    return _json(413, f"请求体过大，上限 {limit} 字节。", "PayloadTooLarge")


def _respond(status: int, body: bytes, content_type: bytes) -> Callable[[Send], Awaitable[None]]:
    async def respond(send: Send) -> None:
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})

    return respond

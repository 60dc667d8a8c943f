"""rewrite's front end and HTTP API in one process: `python app.py [--port N] [--host H] [--token T]`.

The port comes from --port, else GRADIO_SERVER_PORT, else 7860. The access token comes from
--token, else REWRITE_TOKEN. On an address other than loopback the app refuses to start without a
token unless --insecure-no-token says otherwise. What the server promises: docs/security.md.
"""
from __future__ import annotations

import argparse
import os
import sys
import threading

#: Seconds a connection may take to send its request headers (slowloris guard).
HEADER_TIMEOUT_S = 10.0
#: Seconds SIGTERM waits for running requests before the server stops anyway.
SHUTDOWN_GRACE_S = 3


def _warm_up(backend: str) -> None:
    from rewrite import RewriteError
    from rewrite.serve import service

    try:
        service.rewrite_one("你好，请稍等", backend=backend)
    except RewriteError as e:  # the UI shows the same message on the first request
        print(f"rewrite: 默认引擎 {backend} 暂不可用：{e}", file=sys.stderr, flush=True)


def _protocol(header_timeout: float = HEADER_TIMEOUT_S):
    """uvicorn's h11 protocol with a header read timeout: a connection that has not sent a whole
    request head within ``header_timeout`` seconds of opening (or of its last response) is closed."""
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class HeaderTimeoutH11(H11Protocol):
        _head_timer = None

        def _arm(self) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
            waiting_for = self.cycle
            self._head_timer = self.loop.call_later(header_timeout, self._head_timeout, waiting_for)

        def _head_timeout(self, waiting_for) -> None:
            idle = self.cycle is None or self.cycle is waiting_for or self.cycle.response_complete
            if idle and not self.transport.is_closing():
                self.transport.close()

        def connection_made(self, transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._arm()

        def connection_lost(self, exc) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
            super().connection_lost(exc)

    return HeaderTimeoutH11


def _check_exposure(host: str, token: str | None, waived: bool) -> str | None:
    """Why the app must not start on ``host`` (a Chinese message), or None."""
    from rewrite.serve.guard import is_loopback

    if is_loopback(host) or token or waived:
        return None
    return (
        f"拒绝启动：--host {host} 会让局域网内任何电脑访问本服务（改写、保存反馈、读取评测结果），而当前没有设置访问令牌。\n"
        "请设置令牌（环境变量 REWRITE_TOKEN 或 --token），或只在本机使用（--host 127.0.0.1）；"
        "确实要在无令牌的情况下对外开放时，加 --insecure-no-token。"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="客服回复规范改写：网页界面 + HTTP API")
    parser.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", "7860")), help="端口（默认 7860 或 GRADIO_SERVER_PORT）")
    parser.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"), help="监听地址（默认 127.0.0.1，只有本机可访问）")
    from rewrite.engines import DEFAULT_BACKEND, backend_names

    parser.add_argument("--backend", default=DEFAULT_BACKEND,
                        help=f"界面默认引擎：{'、'.join(n for n in backend_names() if n != 'identity')}（默认 {DEFAULT_BACKEND}）")
    parser.add_argument("--token", default=os.environ.get("REWRITE_TOKEN") or None,
                        help="访问令牌（默认取环境变量 REWRITE_TOKEN）：设置后，API、界面、保存与评测都需要它")
    parser.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                        help="额外允许的主机名（客户端访问本服务时用的名称或地址），可重复")
    parser.add_argument("--header-timeout", type=float, default=HEADER_TIMEOUT_S, metavar="SECONDS",
                        help=f"请求头须在多少秒内发完，否则断开连接（默认 {HEADER_TIMEOUT_S:g}）")
    parser.add_argument("--insecure-no-token", action="store_true",
                        help="允许在非本机地址上无令牌启动（局域网内任何人都能使用与保存）")
    args = parser.parse_args(argv)

    refusal = _check_exposure(args.host, args.token, args.insecure_no_token)
    if refusal:
        print(refusal, file=sys.stderr)
        return 2

    import uvicorn

    from rewrite import RewriteError
    from rewrite.serve.api import create_app
    from rewrite.serve.guard import is_loopback

    try:
        app = create_app(default_backend=args.backend, token=args.token, host=args.host, allow_hosts=args.allow_host)
    except RewriteError as e:
        print(f"错误：{e}", file=sys.stderr)
        return 2
    if not is_loopback(args.host):
        how = "需要访问令牌" if args.token else "没有访问令牌（--insecure-no-token）"
        print(f"rewrite: 警告：监听 {args.host}，局域网内的电脑都能访问，{how}；连接是明文 HTTP，"
              "令牌和草稿可被同网段窃听，对外提供时请放在 HTTPS 反向代理之后。", file=sys.stderr, flush=True)
    # Load the default engine (model, segmenter dictionary) in the background so the first agent's
    # request does not pay for it; the server answers meanwhile.
    sock = _bind(args.host, args.port)
    if sock is None:
        return 2
    threading.Thread(target=_warm_up, args=(args.backend,), daemon=True).start()
    login = "?token=<令牌>" if args.token else ""
    # Printed only once the port is ours, so the address it names is really served.
    print(f"rewrite: http://{args.host}:{sock.getsockname()[1]}/{login}  (API: POST /api/rewrite, /api/check)", flush=True)
    try:
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", http=_protocol(args.header_timeout),
                                               timeout_graceful_shutdown=SHUTDOWN_GRACE_S, timeout_keep_alive=5))
        server.run(sockets=[sock])
    finally:
        from rewrite.serve.ui import stop_evaluations

        stop_evaluations()
    return 0


def _bind(host: str, port: int):
    """A listening socket on ``host:port``, or None after saying why (a busy port, a bad address)."""
    import errno
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as e:
        print(f"错误：无法解析监听地址 {host}（{e.strerror}）：请用 --host 给出本机地址，如 127.0.0.1。", file=sys.stderr)
        return None
    family, _, _, _, addr = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(addr)
        sock.listen(2048)
    except OSError as e:
        sock.close()
        if e.errno == errno.EADDRINUSE:
            print(f"错误：端口 {port} 已被占用（{host}:{port}）：先停掉占用它的程序，或用 --port N（或 GRADIO_SERVER_PORT）换一个端口。",
                  file=sys.stderr)
        else:
            print(f"错误：无法在 {host}:{port} 上监听（{e.strerror}）：请换一个 --host 或 --port。", file=sys.stderr)
        return None
    return sock


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # A worker thread still inside a request must not keep a stopped server alive: SIGTERM means
    # stop within seconds (the feedback store writes each line in one locked write, so nothing is
    # left half-written by leaving now).
    os._exit(code)

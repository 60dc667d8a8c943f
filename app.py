"""rewrite's front end and HTTP API in one process: `python app.py [--port N] [--host H]`.

The port comes from --port, else GRADIO_SERVER_PORT, else 7860.
"""
from __future__ import annotations

import argparse
import os
import sys
import threading


def _warm_up(backend: str) -> None:
    from rewrite import RewriteError
    from rewrite.serve import service

    try:
        service.rewrite_one("你好，请稍等", backend=backend)
    except RewriteError as e:  # the UI shows the same message on the first request
        print(f"rewrite: 默认引擎 {backend} 暂不可用：{e}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="客服回复规范改写：网页界面 + HTTP API")
    parser.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", "7860")), help="端口（默认 7860 或 GRADIO_SERVER_PORT）")
    parser.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"), help="监听地址（默认 127.0.0.1）")
    from rewrite.engines import DEFAULT_BACKEND, backend_names

    parser.add_argument("--backend", default=DEFAULT_BACKEND,
                        help=f"界面默认引擎：{'、'.join(n for n in backend_names() if n != 'identity')}（默认 {DEFAULT_BACKEND}）")
    args = parser.parse_args(argv)

    import uvicorn

    from rewrite import RewriteError
    from rewrite.serve.api import create_app

    try:
        app = create_app(default_backend=args.backend)
    except RewriteError as e:
        print(f"错误：{e}", file=sys.stderr)
        return 2
    # Load the default engine (model, segmenter dictionary) in the background so the first agent's
    # request does not pay for it; the server answers meanwhile.
    sock = _bind(args.host, args.port)
    if sock is None:
        return 2
    threading.Thread(target=_warm_up, args=(args.backend,), daemon=True).start()
    # Printed only once the port is ours, so the address it names is really served.
    print(f"rewrite: http://{args.host}:{sock.getsockname()[1]}/  (API: POST /api/rewrite, /api/check)", flush=True)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    server.run(sockets=[sock])
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
    sys.exit(main())

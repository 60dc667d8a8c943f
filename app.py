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
    parser.add_argument("--backend", default="seq2seq", help="界面默认引擎：seq2seq（默认）、rules 或 llm")
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
    threading.Thread(target=_warm_up, args=(args.backend,), daemon=True).start()
    print(f"rewrite: http://{args.host}:{args.port}/  (API: POST /api/rewrite, /api/check)", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())

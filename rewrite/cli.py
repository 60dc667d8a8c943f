"""Command line: ``rewrite "草稿"``, ``rewrite check``, ``rewrite batch``, ``rewrite data build``,
``rewrite train``, ``rewrite eval``.

Library errors become a one-line message and an exit code here, and only here.
Exit codes: 0 ok, 1 some input lines of ``rewrite batch`` could not be rewritten (reported, and
written with an ``error`` field), 2 usage or input error.
"""
from __future__ import annotations

import os
import sys
from typing import Sequence

from rewrite.errors import RewriteError

# Subcommands implemented elsewhere take the rest of argv: "name": "module:function".
DELEGATED = {
    "data": "rewrite.data.build:main",
    "train": "rewrite.engines.seq2seq.train:main",
    "train-edit": "rewrite.engines.edit.model:main",
    "train-critic": "rewrite.norms.critic_train:main",
    "eval": "rewrite.evaluation.harness:main",
    "judge": "rewrite.evaluation.judge_cli:main",
}
LOCAL = ("check", "batch")

USAGE = """用法:
  rewrite "草稿" [--backend NAME] [--channel phone|chat] [-n N] [--json]
                                      改写一条草稿（默认引擎 seq2seq；写 - 从标准输入读取）
      --backend NAME                  改写引擎：{backends}（默认 {default}）
      --channel phone|chat            渠道：phone 电话 / chat 在线（默认 phone）
      -n N                            候选数 1-4（大于 1 时另给不同的合格备选）
      --json                          以 JSON 输出完整结果
  rewrite check "草稿" [--channel C] [--json]
                                      检查草稿违反了哪些服务规范
  rewrite batch IN.jsonl -o OUT.jsonl [--backend NAME] [--channel C]
                                      批量改写：输出与输入逐行对应，出错的行带 error 字段
  rewrite data build                  构建训练语料
  rewrite train [...]                 训练 seq2seq 模型
  rewrite train-edit [...]            训练编辑模型（规则改写之上的学习编辑）
  rewrite train-critic [...]          训练语气评审模型（逐句判断语气）
  rewrite eval --bench F --system S   评测（系统：{backends}、reference）
  rewrite judge --bench F --system S --judge ID   盲评（结果供 rewrite eval 合并）
各子命令加 --help 查看参数。
退出码：0 成功；1 batch 中有行改写失败（已逐行标出）；2 用法或输入错误。"""


def _usage() -> str:
    from rewrite.engines import DEFAULT_BACKEND, backend_names

    return USAGE.format(backends="、".join(backend_names()), default=DEFAULT_BACKEND)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    except BrokenPipeError:  # `rewrite --help | head`: the reader left; nothing to report
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the flush at exit
        except OSError:
            pass
        return 0


def _main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(_usage())
        return 0 if argv else 2
    cmd = argv[0]
    try:
        if cmd in DELEGATED:
            import importlib

            module, _, func = DELEGATED[cmd].partition(":")
            return int(getattr(importlib.import_module(module), func)(argv[1:]) or 0)
        from rewrite import commands

        if cmd in LOCAL:
            return getattr(commands, f"cmd_{cmd}")(argv[1:])
        return commands.cmd_rewrite(argv)
    except RewriteError as e:
        print(f"错误：{e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("已中断。", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

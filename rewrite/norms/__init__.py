"""The norms: loading them from ``prompts/`` (:mod:`.load`) and checking a text against them
(:mod:`.checker`). The learned clause critic joins here. Nothing here imports torch or gradio."""

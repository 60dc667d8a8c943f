"""The pair format of ``docs/DATA_SPEC.md`` as data: domain ids, scenario ids, channels, fields.

``tests/test_data.py`` checks that these sets match the document, so the two cannot drift apart.
"""
from __future__ import annotations

from typing import Any

DOMAINS: tuple[str, ...] = (
    "telecom", "broadband", "ecommerce", "logistics", "property",
    "utility", "bank", "airline", "cabletv", "aftersales",
    "gov12345", "hospital", "insurance", "hotel", "food_delivery", "app_game", "car", "education",
)

TRAIN_SCENARIOS: tuple[str, ...] = (
    "opening_greeting", "ask_name", "cannot_hear", "noisy_line", "handsfree", "misdial",
    "silent_line", "hold_for_query", "return_from_hold", "cannot_answer_now", "complaint_received",
    "apology_colleague", "apology_wait", "thanks_suggestion", "refuse_alternative",
    "promotion_ended", "explain_policy", "verify_identity", "confirm_understanding", "ask_repeat",
    "transfer_department", "fault_report", "repair_appointment", "bill_query", "payment_due",
    "refund", "return_exchange", "delivery_delay", "change_address", "bargaining",
    "payment_confirm", "out_of_stock", "recommend_product", "closing", "soothe_angry",
    "correct_customer", "no_guarantee", "not_our_scope", "asked_again", "request_documents",
    "service_suspension", "fee_dispute", "follow_up_callback", "colleague_absent",
)

HELDOUT_SCENARIOS: tuple[str, ...] = (
    "lost_item", "booking_change", "password_reset", "neighbour_noise", "meter_reading",
    "card_frozen", "compensation_claim", "damaged_package", "missed_visit",
    "account_cancellation", "invoice_request", "points_redemption",
)

CHANNELS: tuple[str, ...] = ("phone", "chat")

#: Fields every pair carries (``reference`` may equal ``draft``; ``keep`` may be empty).
REQUIRED_FIELDS: tuple[str, ...] = ("id", "draft", "reference", "keep", "domain", "scenario", "channel", "source")


def pair_problems(rec: dict[str, Any], *, training: bool = True, require_reference: bool = True) -> list[str]:
    """Why ``rec`` is not a valid pair (Chinese, one reason per item); ``[]`` when it is.

    ``training=True`` refuses the held-out-only scenarios (written pairs, feedback); benchmark
    files pass ``training=False`` and may use every scenario. The corpus-v2 rules (``must_fix``
    spans, faithfulness) come on top in :func:`rewrite.data.audit.record_problems`, which is what
    readers call.
    """
    problems: list[str] = []
    rid = rec.get("id")
    if not isinstance(rid, str) or not rid.strip():
        problems.append("缺少 id 或 id 为空")
    draft = rec.get("draft")
    if not isinstance(draft, str) or not draft.strip():
        problems.append("缺少 draft 或 draft 为空")
    ref = rec.get("reference")
    if require_reference and (not isinstance(ref, str) or not ref.strip()):
        problems.append("缺少 reference 或 reference 为空")
    keep = rec.get("keep", [])
    if not isinstance(keep, list) or not all(isinstance(k, str) and k for k in keep):
        problems.append("keep 必须是非空字符串的列表")
        keep = []
    domain = rec.get("domain")
    if domain not in DOMAINS:
        problems.append(f"未知领域 domain={domain!r}（可选：{', '.join(DOMAINS)}）")
    scenario = rec.get("scenario")
    if training and scenario in HELDOUT_SCENARIOS:
        problems.append(f"场景 {scenario} 只能出现在留出评测集，不能用于训练")
    elif scenario not in TRAIN_SCENARIOS and scenario not in HELDOUT_SCENARIOS:
        problems.append(f"未知场景 scenario={scenario!r}（见 docs/DATA_SPEC.md）")
    channel = rec.get("channel")
    if channel not in CHANNELS:
        problems.append(f"未知渠道 channel={channel!r}（可选：phone, chat）")
    source = rec.get("source")
    if source is not None and (not isinstance(source, str) or not source.strip()):
        problems.append("source 必须是非空字符串")
    for span in keep:
        sides = []
        if isinstance(draft, str) and span not in draft:
            sides.append("draft")
        if require_reference and isinstance(ref, str) and span not in ref:
            sides.append("reference")
        if sides:
            problems.append(f"keep 片段「{span}」不在 {' 和 '.join(sides)} 中")
    return problems

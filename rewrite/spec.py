"""The controlled vocabularies of the data (see docs/DATA_SPEC.md): domains, scenarios, channels."""
from __future__ import annotations

DOMAINS = (
    "telecom", "broadband", "ecommerce", "logistics", "property",
    "utility", "bank", "airline", "cabletv", "aftersales",
)
CHANNELS = ("phone", "chat")
TRAIN_SCENARIOS = (
    "opening_greeting", "ask_name", "cannot_hear", "noisy_line", "handsfree", "misdial", "silent_line",
    "hold_for_query", "return_from_hold", "cannot_answer_now", "complaint_received", "apology_colleague",
    "apology_wait", "thanks_suggestion", "refuse_alternative", "promotion_ended", "explain_policy",
    "verify_identity", "confirm_understanding", "ask_repeat", "transfer_department", "fault_report",
    "repair_appointment", "bill_query", "payment_due", "refund", "return_exchange", "delivery_delay",
    "change_address", "bargaining", "payment_confirm", "out_of_stock", "recommend_product", "closing",
    "soothe_angry", "correct_customer", "no_guarantee", "not_our_scope", "asked_again",
    "request_documents", "service_suspension", "fee_dispute", "follow_up_callback", "colleague_absent",
)
HELDOUT_SCENARIOS = (
    "lost_item", "booking_change", "password_reset", "neighbour_noise", "meter_reading", "card_frozen",
    "compensation_claim", "damaged_package", "missed_visit", "account_cancellation", "invoice_request",
    "points_redemption",
)
SCENARIOS = TRAIN_SCENARIOS + HELDOUT_SCENARIOS

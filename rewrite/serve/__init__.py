"""Serving: the shared service layer, the JSON API, the Gradio UI and the feedback store."""

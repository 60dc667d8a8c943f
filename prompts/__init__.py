"""The norms as editable data; shipped inside the package as ``rewrite.prompts``."""

"""Code generation: one Jinja environment, context builders for RTL (and later HLS)."""

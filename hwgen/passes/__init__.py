"""Passes over the lowered model: one pass per file."""

"""Accuracy and cost sweeps over bit widths."""

"""Tidy results to figures to a self-contained HTML report."""

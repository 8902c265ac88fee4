"""Tests of the HTML report: tidy tables in, one self-contained report.html out."""

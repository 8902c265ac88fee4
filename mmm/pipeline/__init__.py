"""Stages A, B, MMLM and C wired by one config; profiles smoke, quick and paper."""

"""Test suite for vzmon (run: python -m pytest)."""

"""Test data: recorded-format fixtures written by the project."""

"""Shared Python code of the arrears warehouse: pipeline steps, demo data, validation, export, risk model."""

__version__ = "0.1.0"

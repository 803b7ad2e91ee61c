"""Turning analysis records into tables, JSON, CSV and Markdown. Never runs a model."""

"""Mobility models."""

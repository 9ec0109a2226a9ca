"""Capacity models."""

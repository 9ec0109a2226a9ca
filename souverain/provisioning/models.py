"""Provisioning models."""

"""Mobility: what-if questions against the live estate (and, later, migration between clouds)."""

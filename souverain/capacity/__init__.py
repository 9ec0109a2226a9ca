"""Capacity: each region's allocatable, used and free vCPU, RAM and disk (OpenStack Placement, Nova), with history,
so that placement can say "allowed but full"."""

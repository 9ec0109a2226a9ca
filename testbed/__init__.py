"""Souverain's OpenStack test-bed: two real OpenStack clouds (sovereign, international) on 127.0.0.1.

No Django here: Souverain's CLI, the connector's functional tests and CI call these functions directly.

    import testbed
    clouds_yaml = testbed.up()      # idempotent; fast when already up; safe to call from concurrent processes
    testbed.status()                # [(cloud, service, pid, state, url), ...]
    with testbed.outage("sovereign-cinder-api"): ...   # stopped in the block, then up() again
    testbed.down()

State lives in $SOUVERAIN_TESTBED_DIR (default <repo>/.testbed); see testbed/README.md.
"""

from testbed.core import clouds_yaml_path, down, is_up, logs, memory_mib, outage, reset, status, up
from testbed.layout import CLOUDS, TestbedError

__all__ = [
    "CLOUDS",
    "TestbedError",
    "clouds_yaml_path",
    "down",
    "is_up",
    "logs",
    "memory_mib",
    "outage",
    "reset",
    "status",
    "up",
]

"""gunicorn entry point for any OpenStack WSGI app of the test-bed (this folder is on gunicorn's --pythonpath).

OpenStack apps parse sys.argv with oslo.config at import time; under gunicorn it holds gunicorn's own flags and
the app dies with "unrecognized arguments" (workers then respawn forever). So argv is replaced before import.
TESTBED_WSGI_APP=module:attribute  TESTBED_WSGI_ARGV="prog --config-file X ..."
"""

import importlib
import os
import sys

sys.argv = os.environ.get("TESTBED_WSGI_ARGV", "testbed-wsgi").split()
_module, _attribute = os.environ["TESTBED_WSGI_APP"].split(":")
application = getattr(importlib.import_module(_module), _attribute)

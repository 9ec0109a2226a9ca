"""After a full test run: fail if any known credential appears in Souverain's log file.

The secrets are the ones the tests use (below) and every password of the test-bed's clouds.yaml.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

TEST_SECRETS = ["S3cr3t-Pr1sm-Passw0rd", "pw-operator-admin", "pw-tenant-member"]


def testbed_passwords(root: Path) -> list[str]:
    found = []
    for name in ("clouds.yaml", "secure.yaml"):
        path = root / ".testbed" / name
        if path.exists():
            for cloud in (yaml.safe_load(path.read_text()) or {}).get("clouds", {}).values():
                password = (cloud.get("auth") or {}).get("password")
                if password:
                    found.append(str(password))
    return found


def main() -> int:
    root = Path(__file__).resolve().parent.parent
    log = Path(sys.argv[1])
    if not log.exists() or log.stat().st_size == 0:
        print(f"no log at {log}: nothing was logged, nothing leaked")
        return 0
    text = log.read_text(errors="replace")
    leaks = [s for s in {*TEST_SECRETS, *testbed_passwords(root)} if len(s) >= 6 and s in text]
    if leaks:
        print(f"credentials found in {log}: {len(leaks)} secret(s) leaked", file=sys.stderr)
        return 1
    print(f"{log}: {len(text.splitlines())} lines, no credential found")
    return 0


if __name__ == "__main__":
    sys.exit(main())

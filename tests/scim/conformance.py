#!/usr/bin/env python3
"""Run every scim2-tester check against a SCIM 2.0 server.

Usage: python scim_conformance.py <base_url> <bearer_token>

Needs: pip install "scim2-tester[httpx2]==0.5.2"
Prints one line per check result and a summary. Exits 0 only when no result
has an ERROR or CRITICAL status (SKIPPED and the RFC "SHOULD"/"MAY" statuses
COMPLIANT, ACCEPTABLE and DEVIATION do not fail the run).
"""

import sys

import httpx2
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server

FAILING = {Status.ERROR, Status.CRITICAL}


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    base_url, token = sys.argv[1].rstrip("/"), sys.argv[2]

    http = httpx2.Client(
        base_url=base_url,
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    # No client.discover(): check_server queries /ServiceProviderConfig,
    # /ResourceTypes and /Schemas itself and builds the resource models from them.
    client = SyncSCIMClient(http)
    results = check_server(client, raise_exceptions=False)

    counts: dict[str, int] = {}
    for r in results:
        name = r.status.name
        counts[name] = counts.get(name, 0) + 1
        where = f"[{r.resource_type}] " if r.resource_type else ""
        reason = " ".join((r.reason or "").split())  # reasons may span lines
        print(f"{name:<10} {where}{r.title}: {reason}")

    failed = sum(counts.get(s.name, 0) for s in FAILING)
    summary = ", ".join(f"{n} {k.lower()}" for k, n in sorted(counts.items()))
    print(f"\n{len(results)} results: {summary}")
    print("CONFORMANCE: " + ("FAIL" if failed else "PASS"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

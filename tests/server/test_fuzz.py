"""API fuzzing with schemathesis: every operation of a live `loopwise serve` on loopback, stateless and
stateful, signed in as the admin; no 5xx, and every answer as the OpenAPI document says.

It runs schemathesis's own runner (``schemathesis run``), so all of its phases run: boundary values
of every parameter and body field (coverage), generated valid and invalid input (fuzzing), and chains
of calls that feed ids from one answer into the next (stateful, links inferred from the schema).
Bounded and deterministic (a fixed seed, deterministic generation, one worker, a fixed number of
examples per operation), so it takes one to two minutes and draws the same requests on every run.
``LOOPWISE_FUZZ_EXAMPLES`` raises the bound for a longer hunt by hand.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.server.live import LiveServer, admin_client, make_annotators

EXAMPLES = os.environ.get("LOOPWISE_FUZZ_EXAMPLES", "10")
# The server checks meaning as well as shape (a strategy must exist, a label must be a class), so a
# request that fits the schema may rightly get a 422: the "schema-valid input must be accepted"
# check does not apply. Every other check does: no 5xx; status codes, content types, bodies and
# headers as documented; schema-invalid input refused; 405 with a true Allow; deleted stays deleted.
EXCLUDED_CHECKS = "positive_data_acceptance"
# A new token for the admin would sign the fuzzer itself out; the operation is tested in test_api.
SKIPPED_PATHS = r"/token$"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, str, Path]]:
    """A real server over SQLite with a text project, records, a test set and an annotator in it."""
    workdir: Path = tmp_path_factory.mktemp("fuzz")
    with LiveServer(f"sqlite:///{workdir / 'fuzz.db'}", workdir) as server:
        with admin_client(server) as admin:
            project = admin.post(
                "/api/projects", json={"name": "fuzzed", "task": "text", "label_names": ["pos", "neg"], "batch_size": 4}
            ).json()
            rows = ["id,text,label,split"] + [f"r{i},{'good fine' if i % 2 else 'bad poor'} {i},," for i in range(12)]
            rows += [f"t{i},{'good' if i % 2 else 'bad'} test,{'pos' if i % 2 else 'neg'},test" for i in range(4)]
            imported = admin.post(
                f"/api/projects/{project['id']}/import/upload",
                files={"file": ("records.csv", "\n".join(rows).encode(), "text/csv")},
            )
            assert imported.status_code == 201, imported.text
            make_annotators(admin, project["id"], 1, prefix="fuzz-annotator")
            authorization = str(admin.headers["Authorization"])
        yield server, authorization, workdir


def test_every_operation_answers_as_documented_under_fuzzing(live: tuple[LiveServer, str, Path]) -> None:
    server, authorization, workdir = live
    command = [
        sys.executable, "-m", "schemathesis.cli", "run", f"{server.url}/api/openapi.json",
        "--header", f"Authorization: {authorization}",
        "--seed", "8", "--generation-deterministic", "--workers", "1", "--max-examples", EXAMPLES, "--no-shrink",
        "--exclude-checks", EXCLUDED_CHECKS, "--exclude-path-regex", SKIPPED_PATHS,
        "--request-timeout", "30", "--no-color", "--warnings", "off",
    ]
    # Its own folder: no schemathesis.toml of the checkout (or a stale example database) steers the run.
    run = subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=900, env={**os.environ, "NO_COLOR": "1"})
    report = run.stdout + run.stderr
    generated = re.search(r"(\d+) generated", report)
    print(f"\nschemathesis: {generated.group(0) if generated else 'no count'}")
    if os.environ.get("LOOPWISE_FUZZ_REPORT"):
        Path(os.environ["LOOPWISE_FUZZ_REPORT"]).write_text(report)
    assert run.returncode == 0, f"{report}\n--- server log ---\n{server.log()[-5000:]}"
    assert generated is not None and int(generated.group(1)) >= 500, report
    # Each phase ran and passed something: boundary values, generated input, and chains of calls.
    for phase in ("Coverage", "Fuzzing", "Stateful"):
        ran = re.search(rf"✅\s+{phase} \(in [^)]*\)[^=]*?(\d+) passed", report)
        assert ran is not None and int(ran.group(1)) > 0, (phase, report)
    assert "Internal Server Error" not in server.log(), server.log()[-5000:]


def test_an_out_of_range_id_leaves_the_connection_usable(live: tuple[LiveServer, str, Path]) -> None:
    """Issue 8, defect 1: the 500 for an id past INTEGER also reset the next request on that keep-alive connection."""
    server, authorization, _ = live
    with httpx.Client(base_url=server.url, headers={"Authorization": authorization}, timeout=30) as client:
        for path in ("/api/projects/99999999999999999999", "/projects/99999999999999999999"):
            refused = client.get(path)
            assert refused.status_code in (404, 422), refused.text
            assert client.get("/api/users/me").status_code == 200

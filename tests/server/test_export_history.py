"""Exports with the label history (``?history=true``): every label row of a record, superseded ones included, in order."""

from __future__ import annotations

import csv
import io
import json

from fastapi.testclient import TestClient

from tests.server.conftest import Api, make_project, make_user, sign_in, truth


def test_a_relabelled_record_exports_both_rows_in_order(client: TestClient, admin: Api) -> None:
    pid = make_project(admin, rows=4)["id"]
    user = make_user(admin, "ann")
    admin.post(f"/api/projects/{pid}/members", json={"user_id": user["id"]}).raise_for_status()
    ann = sign_in(client, "ann", "password-123")
    record = ann.post(f"/api/projects/{pid}/queue/next").json()["record"]
    wrong = "neg" if truth(record) == "pos" else "pos"
    ann.post(f"/api/projects/{pid}/records/{record['id']}/label", json={"value": wrong}).raise_for_status()
    ann.put(f"/api/projects/{pid}/records/{record['id']}/label", json={"value": truth(record)}).raise_for_status()

    plain = list(csv.DictReader(io.StringIO(admin.get(f"/api/projects/{pid}/export?format=csv").text)))
    assert [r["label"] for r in plain if r["id"] == record["external_id"]] == [truth(record)]  # in force only
    rows = list(csv.DictReader(io.StringIO(admin.get(f"/api/projects/{pid}/export?format=csv&history=true").text)))
    mine = [r for r in rows if r["id"] == record["external_id"]]
    assert [(r["value"], r["source"], r["annotator"]) for r in mine] == [(wrong, "human", "ann"), (truth(record), "human", "ann")]
    first, second = mine
    assert int(first["label_id"]) < int(second["label_id"]) and first["created_at"] <= second["created_at"]
    assert first["superseded_by"] == second["label_id"] and second["supersedes"] == first["label_id"]
    assert second["superseded_by"] == "" and first["supersedes"] == ""
    assert len(rows) == 3 + 2  # the three records nobody labelled have one empty row each

    lines = [json.loads(line) for line in admin.get(f"/api/projects/{pid}/export?format=jsonl&history=true").text.splitlines()]
    line = next(line for line in lines if line["id"] == record["external_id"])
    assert [h["value"] for h in line["history"]] == [wrong, truth(record)]
    assert line["history"][0]["superseded_by"] == line["history"][1]["label_id"]
    assert [lab["label"] for lab in line["labels"]] == [truth(record)]
    assert all(other["history"] == [] for other in lines if other["id"] != record["external_id"])
    assert "history" not in json.loads(admin.get(f"/api/projects/{pid}/export?format=jsonl").text.splitlines()[0])

    refused = admin.get(f"/api/projects/{pid}/export?format=labelstudio&history=true")
    assert refused.status_code == 422 and "history" in refused.json()["detail"]

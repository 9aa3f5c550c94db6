"""Labelling rules through the API: defined per project (refused with the reason when they cannot work), applied
to the pool with Snorkel: per-rule coverage, overlap, conflict and accuracy, label model and majority vote."""

from __future__ import annotations

import re

import numpy as np
from pathlib import Path

from fastapi.testclient import TestClient

from tests.server.conftest import Api, make_project, truth


def test_rules_are_checked_applied_and_measured(client: TestClient, admin: Api) -> None:
    pid = make_project(admin, rows=12)["id"]
    texts = {r["id"]: r["payload"]["text"] for r in admin.get(f"/api/projects/{pid}/records?limit=100").json()["data"]}
    given: list[str] = []
    while min(given.count("pos"), given.count("neg")) < 2:  # some human labels of each class to measure against
        record = admin.post(f"/api/projects/{pid}/queue/next").json()["record"]
        given.append(truth(record))
        admin.post(f"/api/projects/{pid}/records/{record['id']}/label", json={"value": given[-1]}).raise_for_status()
    rules = [
        {"name": "pos_words", "kind": "keyword", "pattern": "great, lovely", "label": "pos"},
        {"name": "neg_words", "kind": "keyword", "pattern": "awful", "label": "neg"},
        {"name": "teens", "kind": "regex", "pattern": r"item 1\d", "label": "pos"},  # right on odd items only
    ]
    for rule in rules:
        assert admin.post(f"/api/projects/{pid}/rules", json=rule).status_code == 201
    bad = admin.post(f"/api/projects/{pid}/rules", json={"name": "broken", "kind": "regex", "pattern": "(", "label": "pos"})
    assert bad.status_code == 422 and "'broken'" in bad.json()["detail"] and "regular expression" in bad.json()["detail"]
    unknown = admin.post(f"/api/projects/{pid}/rules", json={"name": "x", "kind": "keyword", "pattern": "a", "label": "maybe"})
    assert unknown.status_code == 422 and "'maybe'" in unknown.json()["detail"]
    twice = admin.post(f"/api/projects/{pid}/rules", json=rules[0])
    assert twice.status_code == 409 and "pos_words" in twice.json()["detail"]
    assert [r["name"] for r in admin.get(f"/api/projects/{pid}/rules").json()["data"]] == ["pos_words", "neg_words", "teens"]

    stats = admin.post(f"/api/projects/{pid}/rules/apply").json()
    assert (stats["n_records"], stats["n_labelled"]) == (12, len(given))
    fires = {
        "pos_words": {r for r, t in texts.items() if re.search(r"\b(great|lovely)\b", t)},
        "neg_words": {r for r, t in texts.items() if re.search(r"\bawful\b", t)},
        "teens": {r for r, t in texts.items() if re.search(r"item 1\d", t)},
    }
    by_name = {r["name"]: r for r in stats["rules"]}
    for name, fired in fires.items():
        assert by_name[name]["coverage"] == len(fired) / 12
        others = set().union(*(f for n, f in fires.items() if n != name))
        assert by_name[name]["overlap"] == len(fired & others) / 12
    # teens votes pos on the neg records item 10: it conflicts with neg_words there; pos_words never conflicts with it.
    assert by_name["teens"]["conflict"] == len(fires["teens"] & fires["neg_words"]) / 12 > 0
    assert by_name["pos_words"]["accuracy"] == 1.0 and by_name["neg_words"]["accuracy"] == 1.0
    models = {m["method"]: m for m in stats["models"]}
    assert set(models) == {"label_model", "majority"}
    assert all(m["coverage"] == 1.0 and m["n_checked"] == len(given) for m in models.values())
    assert by_name["pos_words"]["n_checked"] == given.count("pos")
    assert admin.get(f"/api/projects/{pid}/rules/stats").json() == stats

    rule_id = admin.get(f"/api/projects/{pid}/rules").json()["data"][2]["id"]
    assert admin.delete(f"/api/projects/{pid}/rules/{rule_id}").status_code == 200
    two = admin.post(f"/api/projects/{pid}/rules/apply").json()
    assert [r["name"] for r in two["rules"]] == ["pos_words", "neg_words"]
    label_model = next(m for m in two["models"] if m["method"] == "label_model")
    assert label_model["accuracy"] is None and "at least 3 rules" in label_model["note"]


def test_rules_are_for_admins_and_need_a_rule_to_apply(client: TestClient, admin: Api) -> None:
    from tests.server.conftest import make_user, sign_in

    pid = make_project(admin, rows=2)["id"]
    nothing = admin.post(f"/api/projects/{pid}/rules/apply")
    assert nothing.status_code == 422 and "no rules" in nothing.json()["detail"]
    assert admin.get(f"/api/projects/{pid}/rules/stats").json() is None
    user = make_user(admin, "ann")
    admin.post(f"/api/projects/{pid}/members", json={"user_id": user["id"]}).raise_for_status()
    ann = sign_in(client, "ann", "password-123")
    assert ann.get(f"/api/projects/{pid}/rules").status_code == 403
    assert ann.post(f"/api/projects/{pid}/rules", json={"name": "a", "kind": "keyword", "pattern": "x", "label": "pos"}).status_code == 403


def test_weak_labels_order_the_queue_before_the_first_labels(client: TestClient, admin: Api, tmp_path: Path) -> None:
    from loopwise.server._driver import compute_retrain

    pid = make_project(admin, rows=12, weak_start=True, batch_size=4, strategy="margin")["id"]
    services = client.app.state.services  # type: ignore[attr-defined]
    before = [r.record_id for r in sorted(services.repo.snapshot(pid), key=lambda r: r.rank)][:4]
    for rule in (
        {"name": "pos_words", "kind": "keyword", "pattern": "great", "label": "pos"},
        {"name": "neg_words", "kind": "keyword", "pattern": "awful", "label": "neg"},
        {"name": "sevens", "kind": "regex", "pattern": r"item [37]\b", "label": "neg"},
    ):
        admin.post(f"/api/projects/{pid}/rules", json=rule).raise_for_status()
    admin.post(f"/api/projects/{pid}/rules/apply").raise_for_status()
    assert services.worker.wait_idle(60) and not services.worker.errors, services.worker.errors
    served = []
    for _ in range(4):
        record = admin.post(f"/api/projects/{pid}/queue/next").json()["record"]
        served.append(record["id"])
        admin.post(f"/api/projects/{pid}/records/{record['id']}/skip").raise_for_status()
    # The rules' weak labels, not the import order, put these first: margin on a model trained on them.
    ranked = compute_retrain(services.repo, pid, tmp_path)
    assert ranked is not None and ranked.strategy == "weak:margin"
    assert served == ranked.ranking[:4] != before
    assert None not in ranked.scores[:4] and ranked.scores[:4] == sorted(ranked.scores[:4], reverse=True)


def _weak_project(client: TestClient, admin: Api, tmp_path: Path, name: str, **settings: object) -> tuple[object, dict]:
    """A project whose rules were applied and whose first four records were labelled; its first retrain, by hand."""
    from loopwise.server._driver import compute_retrain

    pid = make_project(admin, name, rows=16, batch_size=4, retrain_every=1000, **settings)["id"]
    for rule in (
        {"name": "pos_words", "kind": "keyword", "pattern": "great", "label": "pos"},
        {"name": "neg_words", "kind": "keyword", "pattern": "awful", "label": "neg"},
        {"name": "sevens", "kind": "regex", "pattern": r"item [37]\b", "label": "neg"},  # wrong on item 3 and 7
    ):
        admin.post(f"/api/projects/{pid}/rules", json=rule).raise_for_status()
    admin.post(f"/api/projects/{pid}/rules/apply").raise_for_status()
    services = client.app.state.services  # type: ignore[attr-defined]
    assert services.worker.wait_idle(60) and not services.worker.errors, services.worker.errors
    texts = {}
    for record in admin.get(f"/api/projects/{pid}/records?limit=100").json()["data"][:4]:  # the same four in every project
        texts[record["payload"]["text"]] = truth(record)
        admin.post(f"/api/projects/{pid}/records/{record['id']}/label", json={"value": truth(record)}).raise_for_status()
    result = compute_retrain(services.repo, pid, tmp_path)
    assert result is not None
    return result, texts


def test_weak_labels_train_at_their_weight_and_never_count_as_labels(client: TestClient, admin: Api, tmp_path: Path) -> None:
    plain, texts = _weak_project(client, admin, tmp_path, "plain")
    zero, texts_zero = _weak_project(client, admin, tmp_path, "zero", weak_weight=0.0)
    half, texts_half = _weak_project(client, admin, tmp_path, "half", weak_weight=0.5)
    assert texts == texts_zero == texts_half  # the same four records got the same labels in all three
    assert plain.n_labelled == zero.n_labelled == half.n_labelled == 4  # weak labels are not labels
    base = plain.model_arrays["pool_proba"]
    np.testing.assert_allclose(zero.model_arrays["pool_proba"], base, atol=1e-5)
    assert np.abs(half.model_arrays["pool_proba"] - base).max() > 0.01
    weak_off = admin.patch(f"/api/projects/{half.project_id}", json={"weak_weight": None})
    assert weak_off.status_code == 200 and weak_off.json()["settings"]["weak_weight"] is None
    refused = admin.patch(f"/api/projects/{half.project_id}", json={"weak_weight": 0.5, "learner": "mlp"})
    assert refused.status_code == 422 and "sample_weight" in refused.text

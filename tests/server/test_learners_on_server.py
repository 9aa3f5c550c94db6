"""Learners on the server: one the project's data cannot feed is refused with a reason; failed retrains show."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from loopwise.learners import SPECS
from loopwise.server._project_checks import PROJECT_INPUTS, default_learner
from tests.server.conftest import Api

TEXT_ROWS = "id,text\n" + "\n".join(f"r{i},{'great lovely fine' if i % 2 else 'awful bad poor'} item {i}" for i in range(6))


def _body(name: str, task: str = "text", **settings: Any) -> dict[str, Any]:
    return {"name": name, "task": task, "label_names": ["pos", "neg"], **settings}


def _names(admin: Api) -> list[str]:
    return [p["name"] for p in admin.get("/api/projects").json()["data"]]


@pytest.mark.parametrize(
    ("task", "learner", "why"),
    [
        ("text", "hgb", "hgb needs dense features; text projects give"),
        ("image", "minilm", "minilm embeds raw texts; image projects give pixels"),
        ("tabular", "tfidf_svd", "tfidf_svd embeds raw texts; tabular projects give dense numeric features"),
        ("text", "nosuch", "unknown learner 'nosuch'; known learners: hgb, logreg, minilm"),
    ],
)
def test_creating_a_project_with_a_learner_its_data_cannot_feed_is_a_422_saying_why(
    admin: Api, task: str, learner: str, why: str
) -> None:
    response = admin.post("/api/projects", json=_body("refused", task, learner=learner))
    assert response.status_code == 422, response.text
    assert why in response.json()["detail"]
    assert _names(admin) == []


def test_the_create_and_upload_form_refuses_it_too_and_stores_no_project(admin: Api) -> None:
    response = admin.post(
        "/api/projects/upload",
        data={"project": __import__("json").dumps(_body("refused", learner="hgb"))},
        files={"file": ("records.csv", TEXT_ROWS.encode(), "text/csv")},
    )
    assert response.status_code == 422, response.text
    assert "hgb needs dense features; text projects give" in response.json()["detail"]
    assert _names(admin) == []


def test_changing_a_project_to_a_learner_its_data_cannot_feed_is_a_422_and_changes_nothing(admin: Api) -> None:
    project = admin.post("/api/projects", json=_body("reviews", learner="logreg")).json()
    before = admin.get(f"/api/projects/{project['id']}").json()
    response = admin.patch(f"/api/projects/{project['id']}", json={"learner": "hgb", "batch_size": 5})
    assert response.status_code == 422, response.text
    # A PATCH names the refused field (the admin console shows the message next to it).
    [issue] = response.json()["detail"]
    assert issue["loc"] == ["body", "learner"] and "hgb needs dense features; text projects give" in issue["msg"]
    assert admin.get(f"/api/projects/{project['id']}").json() == before
    tabular = admin.post("/api/projects", json=_body("table", "tabular")).json()
    assert admin.patch(f"/api/projects/{tabular['id']}", json={"learner": "hgb"}).status_code == 200
    response = admin.patch(f"/api/projects/{tabular['id']}", json={"learner": "minilm"})
    assert response.status_code == 422
    assert [(i["loc"], i["msg"]) for i in response.json()["detail"]] == [
        (["body", "learner"], "minilm embeds raw texts; tabular projects give dense numeric features")
    ]


def test_a_strategy_that_needs_embeddings_the_learner_cannot_give_is_refused(admin: Api) -> None:
    body = _body("kcenter", learner="logreg", strategy="kcenter", strategy_params={"use": "embeddings"})
    response = admin.post("/api/projects", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["detail"].startswith(
        "strategy 'kcenter' needs embeddings; logreg has none of its own and text projects give raw texts or sparse TF-IDF features"
    )
    # Dense rows stand in for embeddings, and a learner that embeds has its own.
    assert admin.post("/api/projects", json={**body, "task": "tabular"}).status_code == 201
    assert admin.post("/api/projects", json={**body, "name": "mlp", "learner": "mlp"}).status_code == 201


def test_every_library_learner_declares_inputs_and_each_task_takes_some_of_them() -> None:
    kinds = {kind for spec in SPECS.values() for kind in spec.takes}
    assert kinds <= {"texts", "sparse", "dense"}
    for task, (given, _) in PROJECT_INPUTS.items():
        assert any(spec.takes & set(given) for spec in SPECS.values()), task


def test_new_projects_default_to_the_tasks_best_learner_that_is_installed(admin: Api) -> None:
    text = admin.post("/api/projects", json=_body("text")).json()
    table = admin.post("/api/projects", json=_body("table", "tabular")).json()
    explicit = admin.post("/api/projects", json=_body("explicit", learner="rf")).json()
    assert text["settings"]["learner"] == default_learner("text")
    # With the text extra installed and raw texts reaching text learners, that is the sentence embedder.
    expected = "minilm" if SPECS["minilm"].installed() and "texts" in PROJECT_INPUTS["text"][0] else "logreg"
    assert default_learner("text") == expected
    assert (table["settings"]["learner"], explicit["settings"]["learner"]) == ("logreg", "rf")


def test_the_resolved_default_is_stored_with_the_project(client: TestClient, admin: Api) -> None:
    created = admin.post("/api/projects", json=_body("kept")).json()
    stored = client.app.state.services.repo.get_project(created["id"])  # type: ignore[attr-defined]
    assert stored.settings["learner"] == created["settings"]["learner"]


# -- a retrain that fails is visible, and can be retried --------------------------------------------

# Texts of one letter each: TF-IDF keeps words of two letters or more, so its vocabulary is empty and
# fitting the default featuriser fails for real ("empty vocabulary"), with logreg as the learner.
NO_WORDS = "id,text\n" + "\n".join(f"r{i},{'abcdefgh'[i]} ?" for i in range(8))
WORDS = "id,text\n" + "\n".join(f"w{i},{'great lovely fine' if i % 2 else 'awful bad poor'} words {i}" for i in range(8))


def _upload(admin: Api, pid: int, content: str) -> None:
    response = admin.post(f"/api/projects/{pid}/import/upload", files={"file": ("r.csv", content.encode(), "text/csv")})
    assert response.status_code == 201, response.text


def _label_next(admin: Api, pid: int, n: int) -> None:
    for _ in range(n):
        record = admin.post(f"/api/projects/{pid}/queue/next").json()["record"]
        assert admin.post(f"/api/projects/{pid}/records/{record['id']}/label", json={"value": "pos"}).status_code == 201


def _failing_project(client: TestClient, admin: Api) -> tuple[int, Any]:
    project = admin.post("/api/projects", json=_body("no-words", learner="logreg", retrain_every=2)).json()
    _upload(admin, project["id"], NO_WORDS)
    worker = client.app.state.services.worker  # type: ignore[attr-defined]
    _label_next(admin, project["id"], 2)
    assert worker.wait_idle(60)
    return project["id"], worker


def test_a_failed_retrain_is_in_stats_with_its_message_and_the_queue_keeps_its_ranking(
    client: TestClient, admin: Api
) -> None:
    repo = client.app.state.services.repo  # type: ignore[attr-defined]
    project = admin.post("/api/projects", json=_body("no-words", learner="logreg", retrain_every=2)).json()
    pid = project["id"]
    _upload(admin, pid, NO_WORDS)
    ranks = {r.record_id: r.rank for r in repo.snapshot(pid)}
    stats = admin.get(f"/api/projects/{pid}/stats").json()
    assert stats["last_retrain_error"] is None
    _label_next(admin, pid, 2)
    worker = client.app.state.services.worker  # type: ignore[attr-defined]
    assert worker.wait_idle(60) and worker.errors
    stats = admin.get(f"/api/projects/{pid}/stats").json()
    failure = stats["last_retrain_error"]
    assert failure is not None and "empty vocabulary" in failure["message"], failure
    assert failure["n_labelled"] == 2 and failure["failed_at"]
    assert stats["loops"] == [] and stats["training"] is False
    assert {r.record_id: r.rank for r in repo.snapshot(pid)} == ranks  # the ranking in use is untouched
    assert admin.post(f"/api/projects/{pid}/queue/next").json()["record"] is not None  # and still serves


def test_retrying_is_for_admins_and_a_retrain_that_works_clears_the_failure(client: TestClient, admin: Api) -> None:
    from tests.server.conftest import make_user, sign_in

    pid, worker = _failing_project(client, admin)
    make_user(admin, "ann")
    assert admin.post(f"/api/projects/{pid}/members", json={"user_id": admin.get("/api/users").json()["data"][-1]["id"]}).status_code == 201
    annotator = sign_in(client, "ann", "password-123")
    assert annotator.get(f"/api/projects/{pid}/stats").json()["last_retrain_error"] is not None  # members see it
    assert annotator.post(f"/api/projects/{pid}/retrain").status_code == 403
    # The same data fails again on a retry; after records with words arrive, the retry works.
    assert admin.post(f"/api/projects/{pid}/retrain").status_code == 202
    assert worker.wait_idle(60)
    assert "empty vocabulary" in admin.get(f"/api/projects/{pid}/stats").json()["last_retrain_error"]["message"]
    _upload(admin, pid, WORDS)
    assert admin.post(f"/api/projects/{pid}/retrain").status_code == 202
    assert worker.wait_idle(60)
    stats = admin.get(f"/api/projects/{pid}/stats").json()
    assert stats["last_retrain_error"] is None
    assert [loop["n_labelled"] for loop in stats["loops"]] == [2]


def test_the_failure_is_stored_so_another_server_process_shows_it(app_factory: Any) -> None:
    from tests.server.conftest import sign_in
    from tests.server.live import ADMIN_PASSWORD

    first = app_factory()
    pid, _ = _failing_project(first, sign_in(first, "admin", ADMIN_PASSWORD))
    second = app_factory()
    stats = sign_in(second, "admin", ADMIN_PASSWORD).get(f"/api/projects/{pid}/stats").json()
    assert "empty vocabulary" in stats["last_retrain_error"]["message"]


def test_deleting_a_project_deletes_its_failure_too(client: TestClient, admin: Api) -> None:
    pid, _ = _failing_project(client, admin)
    assert admin.delete(f"/api/projects/{pid}").status_code == 200
    assert client.app.state.services.repo.retrain_failure(pid) is None  # type: ignore[attr-defined]

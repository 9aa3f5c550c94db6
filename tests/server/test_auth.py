"""Sign-in throttling (with an injected clock, no sleeping), ASCII user names, and who sees the users page."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from loopwise.errors import ConfigError
from loopwise.server._security import LoginThrottle, ThrottledError
from loopwise.storage import AnnotationRepository, Store
from tests.server.conftest import Api, make_user, sign_in
from tests.server.live import ADMIN_PASSWORD, LiveServer


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _login(client: TestClient, name: str, password: str, address: str = "testclient") -> object:
    return TestClient(client.app, client=(address, 50000)).post("/api/login", json={"name": name, "password": password})


@pytest.fixture
def clock(client: TestClient) -> Clock:
    clock = Clock()
    client.app.state.services.login_throttle = LoginThrottle(clock=clock)  # type: ignore[attr-defined]
    return clock


def test_five_failed_sign_ins_for_a_name_then_429_with_retry_after(client: TestClient, admin: Api, clock: Clock) -> None:
    make_user(admin, "ann", password="right-password")
    for _ in range(5):
        assert _login(client, "ann", "wrong-password").status_code == 401  # type: ignore[attr-defined]
    # Now even the right password is refused, from any address, until the window has passed.
    for address in ("testclient", "10.0.0.9"):
        refused = _login(client, "ann", "right-password", address)
        assert refused.status_code == 429, refused.text  # type: ignore[attr-defined]
        assert refused.headers["Retry-After"] == "900"  # type: ignore[attr-defined]
        assert "too many failed sign-ins for user name 'ann'" in refused.json()["detail"]  # type: ignore[attr-defined]
    clock.now += 899.5
    assert _login(client, "ann", "right-password").headers["Retry-After"] == "1"  # type: ignore[attr-defined]
    clock.now += 0.5
    assert _login(client, "ann", "right-password").status_code == 200  # type: ignore[attr-defined]
    # Other names were never affected.
    assert _login(client, "admin", ADMIN_PASSWORD).status_code == 200  # type: ignore[attr-defined]


def test_a_correct_password_clears_the_count_for_its_name(client: TestClient, admin: Api, clock: Clock) -> None:
    make_user(admin, "bob", password="right-password")
    for _ in range(4):
        assert _login(client, "bob", "wrong").status_code == 401  # type: ignore[attr-defined]
    assert _login(client, "bob", "right-password").status_code == 200  # type: ignore[attr-defined]
    for _ in range(4):
        assert _login(client, "BOB" if _ % 2 else "bob", "wrong").status_code == 401  # type: ignore[attr-defined]
    assert _login(client, "bob", "right-password").status_code == 200  # type: ignore[attr-defined]


def test_twenty_failures_from_one_address_block_it_for_every_name(client: TestClient, admin: Api, clock: Clock) -> None:
    for i in range(20):
        assert _login(client, f"nobody{i}", "guess", "203.0.113.5").status_code == 401  # type: ignore[attr-defined]
    refused = _login(client, "admin", ADMIN_PASSWORD, "203.0.113.5")
    assert refused.status_code == 429 and "address 203.0.113.5" in refused.json()["detail"]  # type: ignore[attr-defined]
    assert _login(client, "admin", ADMIN_PASSWORD, "198.51.100.7").status_code == 200  # type: ignore[attr-defined]
    clock.now += 900
    assert _login(client, "admin", ADMIN_PASSWORD, "203.0.113.5").status_code == 200  # type: ignore[attr-defined]


def test_the_throttle_forgets_failures_outside_its_window() -> None:
    clock = Clock()
    throttle = LoginThrottle(max_per_name=2, max_per_address=100, window_seconds=60, clock=clock)
    throttle.failed("eve", "a")
    clock.now += 30
    throttle.failed("eve", "a")
    with pytest.raises(ThrottledError, match="try again in 30 s") as raised:
        throttle.check("eve", "a")
    assert raised.value.retry_after == 30
    clock.now += 30  # the first failure has left the window
    throttle.check("eve", "a")


@pytest.mark.parametrize("name", ["аdmin", "admin\u200b", "adm in", "ädmin", "admin/1", "<b>x</b>"])
def test_user_names_are_ascii_and_nothing_is_created_otherwise(client: TestClient, admin: Api, name: str) -> None:
    before = admin.get("/api/users").json()["count"]
    response = admin.post("/api/users", json={"name": name, "role": "admin", "password": "password-123"})
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["body", "name"]
    assert admin.get("/api/users").json()["count"] == before


def test_the_python_api_names_the_character_it_refuses(tmp_path: Path) -> None:
    with Store.open(f"sqlite:///{tmp_path / 'u.db'}") as store:
        repo = AnnotationRepository(store)
        with pytest.raises(ConfigError, match=r"only ASCII letters, digits and \. _ @ \+ -; 'аdmin' has 'а' \(U\+0430\)"):
            repo.create_user("аdmin", "admin")
        assert repo.list_users() == []
        assert repo.create_user("ok.name_1+x@y-z", "annotator").name == "ok.name_1+x@y-z"


def test_an_annotator_gets_a_403_page_at_users(client: TestClient, admin: Api) -> None:
    make_user(admin, "dana")
    dana = sign_in(client, "dana", "password-123")
    page = dana.get("/users")
    assert page.status_code == 403 and 'id="user-form"' not in page.text
    assert 'id="user-form"' in admin.get("/users").text


# -- the form's pattern, in headless Chromium -------------------------------------------------------

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    workdir = tmp_path_factory.mktemp("auth")
    with LiveServer(f"sqlite:///{workdir / 'auth.db'}", workdir) as server:
        yield server


@pytest.mark.slow
def test_the_user_form_pattern_is_active_in_chromium(live: LiveServer) -> None:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed: run .ci/chromium.sh (apt-get install chromium)")
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = browser.new_page()
            console: list[str] = []
            page.on("console", lambda message: console.append(message.text))
            page.goto(f"{live.url}/login")
            page.fill("#login-name", "admin")
            page.fill("#login-password", ADMIN_PASSWORD)
            page.click("#login-submit")
            page.wait_for_url(f"{live.url}/")
            page.goto(f"{live.url}/users")
            name = page.locator("#user-form input[name=name]")
            # An invalid pattern is ignored by the browser: then nothing typed would ever be :invalid.
            name.fill("аdmin")
            expect(page.locator("#user-form input[name=name]:invalid")).to_have_count(1)
            name.fill("ok.name_1+x@y-z")
            expect(page.locator("#user-form input[name=name]:valid")).to_have_count(1)
            assert not [line for line in console if "pattern" in line.lower()], console
        finally:
            browser.close()

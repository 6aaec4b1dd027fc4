"""Shared pytest fixtures.

Model-API fakes (``tests/fakeservers.py``): ``fake_api`` is a started fake server,
parametrized over the three vendors (anthropic, openai, gemini); ``fake_anthropic``,
``fake_openai`` and ``fake_gemini`` are single-vendor servers; ``tls_material`` is a throw-away
CA plus a server certificate for 127.0.0.1; ``make_fake_api`` starts more servers (optionally
HTTPS) and stops them after the test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fakeservers import VENDORS, FakeServer, TLSMaterial, make_tls_material


@pytest.fixture
def make_fake_api() -> Iterator[Callable[..., FakeServer]]:
    servers: list[FakeServer] = []

    def make(vendor: str, *, tls: TLSMaterial | None = None) -> FakeServer:
        server = FakeServer(vendor, tls=tls.server_context() if tls else None).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture(params=VENDORS)
def fake_api(request: pytest.FixtureRequest, make_fake_api: Callable[..., FakeServer]) -> FakeServer:
    return make_fake_api(request.param)


@pytest.fixture
def fake_anthropic(make_fake_api: Callable[..., FakeServer]) -> FakeServer:
    return make_fake_api("anthropic")


@pytest.fixture
def fake_openai(make_fake_api: Callable[..., FakeServer]) -> FakeServer:
    return make_fake_api("openai")


@pytest.fixture
def fake_gemini(make_fake_api: Callable[..., FakeServer]) -> FakeServer:
    return make_fake_api("gemini")


@pytest.fixture(scope="session")
def tls_material(tmp_path_factory: pytest.TempPathFactory) -> TLSMaterial:
    return make_tls_material(tmp_path_factory.mktemp("tls"))

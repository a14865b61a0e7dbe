"""Property-based run over the whole OpenAPI description: no input may cause a server error.

Schemathesis reads /api/schema/ from the WSGI application and sends generated
requests (valid and invalid) to every operation, authenticated with a token.
Only ``not_a_server_error`` is checked, with a bounded number of examples per
operation so the run stays short.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error

from beskontakt.accounts.roles import Role

from .conftest import World

pytestmark = pytest.mark.django_db

CALLS: list[int] = []
EXAMPLES = {Role.ADMIN: 15, Role.SUBSCRIBER: 5}


def run_operations(headers: dict[str, str], max_examples: int) -> list[str]:
    """Fuzz every operation; return a description of each server error found."""
    app = get_wsgi_application()
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", app)
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(
            max_examples=max_examples,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def check(case: Any) -> None:
            response = case.call(headers=headers)
            CALLS.append(response.status_code)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} {case.body!r}: {response.status_code}")
            case.validate_response(response, checks=[not_a_server_error])

        try:
            check()
        except Exception as exc:  # collect every operation's failure, then report together
            failures.append(f"{operation.label}: {str(exc)[:500]}")
    return failures


@pytest.fixture
def keep_test_connection() -> Iterator[None]:
    """Requests sent straight to the WSGI app would close the test's database connection
    at the end of each request (Django's test client avoids this the same way)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.usefixtures("keep_test_connection")
@pytest.mark.parametrize("role", list(EXAMPLES))
def test_no_server_errors(world: World, role: str) -> None:
    token, _ = Token.objects.get_or_create(user=world.users[role])
    failures = run_operations({"Authorization": f"Token {token.key}"}, EXAMPLES[role])
    assert failures == []
    assert len(CALLS) > 50, "schemathesis sent (almost) no requests"

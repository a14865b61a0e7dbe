"""The agent workspace in a real browser (Debian's Chromium through Playwright).

Sign in with a password and a TOTP code, take a case from the Unassigned tab,
answer with a macro, watch the first-response clock turn to "met", then
switch the interface to English.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from beskontakt.accounts.roles import Role
from beskontakt.accounts.testing import confirmed_device, sign_in_in_browser
from beskontakt.cases import actions
from beskontakt.cases.models import Case, Macro, SlaPolicy
from beskontakt.conftest import PASSWORD, make_subscriber, make_user
from beskontakt.subscribers.models import AccessRestriction, Channel

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(locale="ru-RU")
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    yield tab
    context.close()


def test_agent_takes_replies_with_macro_and_switches_language(live_server: Any, page: Any) -> None:
    agent = make_user(Role.AGENT, username="olga", first_name="Ольга", last_name="Смирнова")
    device = confirmed_device(agent)
    SlaPolicy.objects.create(name="Стандарт", first_response_minutes=30, resolution_minutes=480)
    subscriber = make_subscriber("77001234")
    AccessRestriction.objects.create(subscriber=subscriber, kind="quarantine", reason="Карантин до конца месяца")
    Macro.objects.create(name="Приветствие", body_ru="Здравствуйте, {name}! Обращение {case}.", body_en="Hello!")
    case = actions.open_case(
        subject="Нет интернета с утра", subscriber=subscriber, body="Роутер мигает красным", channel=Channel.PHONE
    )
    assert case.assignee is None

    # Sign in: password, then the TOTP code.
    sign_in_in_browser(page, live_server.url, "olga", PASSWORD, device, next_url="/")

    # The Unassigned tab (htmx swaps only the table) shows the case with its restriction flag.
    page.click("label[data-tab=unassigned]")
    page.wait_for_url("**tab=unassigned**")
    row = page.locator(f"tr[data-case='{case.pk}']")
    row.wait_for()
    assert row.locator(".restriction-flag").count() == 1
    row.locator("a").first.click()

    # Take it.
    page.wait_for_selector("#take-button")
    page.click("#take-button")
    page.wait_for_selector("#case-assignee:has-text('Ольга')")
    assert page.locator(".restriction").count() >= 1
    assert page.locator("[data-clock=first_response]").get_attribute("data-state") == "running"

    # Reply with the macro: choosing it fills the textarea through htmx.
    page.select_option("#id_macro", label="Приветствие")
    page.wait_for_function("document.querySelector('#reply-body').value.includes('Мария Петровна')")
    assert f"#{case.pk}" in page.input_value("#reply-body")
    page.click("#send-reply")
    page.wait_for_selector("[data-clock=first_response][data-state=met]")
    assert page.locator("li.out.message").count() == 1
    case.refresh_from_db()
    assert case.assignee == agent
    assert case.first_response_at is not None

    # Switch the interface to English.
    assert page.locator("h2:has-text('Хронология')").count() == 1
    page.click("button[data-lang=en]")
    page.wait_for_selector("h2:has-text('Timeline')")
    assert page.locator("text=Reply to the subscriber").count() >= 1
    assert Case.objects.get(pk=case.pk).messages.filter(direction="out").count() == 1

"""The portal in a real browser (Debian's Chromium through Playwright), with the agent on the other side.

The subscriber signs in with a one-time code (read from the outbox, as the
phone would show it), declares a quarantine with contactless service only and
opens a request with a photo (previewed before sending). An agent signs in to
the workspace with password + TOTP, finds the request in the Unassigned tab
flagged with the restriction and sees the quarantine highlighted on the case.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from beskontakt.accounts.roles import Role
from beskontakt.accounts.testing import confirmed_device, sign_in_in_browser
from beskontakt.cases.models import Case, Category, Queue
from beskontakt.cases.tests.files import PNG
from beskontakt.conftest import PASSWORD, make_subscriber, make_user

from .conftest import last_code

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _tab(browser: Any, **options: Any) -> Any:
    context = browser.new_context(locale="ru-RU", **options)
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    return tab


def test_subscriber_declares_quarantine_and_agent_sees_it(live_server: Any, browser: Any) -> None:
    queue = Queue.objects.create(code="support", name="Техподдержка", auto_assign=False)
    category = Category.objects.create(code="no-tv", name_ru="Нет телевидения", name_en="No TV", default_queue=queue)
    subscriber = make_subscriber("77005555")
    agent = make_user(Role.AGENT, username="olga", first_name="Ольга")
    device = confirmed_device(agent)

    # --- the subscriber, on a phone-sized screen -------------------------------------------
    phone = _tab(browser, viewport={"width": 390, "height": 844})
    phone.goto(f"{live_server.url}/my/")
    phone.wait_for_selector("#login-form")
    phone.fill("#id_identifier", "77005555")
    phone.click("#login-form button[type=submit]")
    phone.wait_for_selector("#code-form")
    assert "+7 *** ***-45-67" in phone.inner_text("#code-destination")
    phone.fill("#id_code", last_code(subscriber))
    phone.click("#code-form button[type=submit]")
    phone.wait_for_selector("#restrictions")
    assert "77005555" in phone.inner_text("main")

    phone.click("#declare-restriction")
    phone.wait_for_selector("#restriction-form")
    phone.select_option("#id_kind", "quarantine")
    until = timezone.localdate() + timedelta(days=14)
    phone.fill("#id_valid_until", until.isoformat())
    assert phone.is_checked("#id_contactless")
    phone.fill("#id_note", "Доставка к двери, звонить заранее")
    phone.click("#restriction-form button[type=submit]")
    phone.wait_for_selector(".p-restriction[data-kind=quarantine]")
    assert phone.locator(".p-restriction[data-kind=contactless_only]").count() == 1
    assert subscriber.restrictions.filter(kind="quarantine", valid_until=until).exists()

    # A request with a photo: the preview shows before anything is sent.
    phone.click("#cases a[href='/my/cases/new/']")
    phone.wait_for_selector("#case-form")
    phone.select_option("#id_category", label="Нет телевидения")
    phone.fill("#id_description", "Приставка не показывает каналы")
    phone.set_input_files("#id_photos", files=[{"name": "приставка.png", "mimeType": "image/png", "buffer": PNG}])
    phone.wait_for_selector(".p-previews img")
    phone.click("#send-case")
    phone.wait_for_selector(".p-msg.in")
    case = Case.objects.get(subscriber=subscriber)
    assert case.channel == "portal" and case.category == category
    assert case.messages.get().attachments.count() == 1

    # --- the agent, in the workspace ---------------------------------------------------------
    desk = _tab(browser)
    sign_in_in_browser(desk, live_server.url, "olga", PASSWORD, device, next_url="/")
    desk.click("label[data-tab=unassigned]")
    desk.wait_for_url("**tab=unassigned**")
    row = desk.locator(f"tr[data-case='{case.pk}']")
    row.wait_for()
    assert row.locator(".restriction-flag").count() == 1
    row.locator("a").first.click()
    highlighted = desk.locator("#subscriber-panel .restriction[data-kind=quarantine]")
    highlighted.wait_for()
    assert "Заявлено абонентом" in highlighted.inner_text()
    assert until.strftime("%d.%m.%Y") in highlighted.inner_text()
    assert desk.locator("#subscriber-panel .restriction[data-kind=contactless_only]").count() == 1

    # The subscriber may not open the workspace with their portal session.
    phone.goto(f"{live_server.url}/")
    assert "/accounts/login/" in phone.url
    phone.context.close()
    desk.context.close()

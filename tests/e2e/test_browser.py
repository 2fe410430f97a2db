"""A person in Chromium: sign in, fill the intake form, see the severity and why, submit,
land on the incident page with its timeline."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def test_declare_an_incident_in_the_browser(server, browser, tmp_path):
    base, email, password = server.base, server.email, server.password
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{base}/incidents")
    expect(page).to_have_url(re.compile(r"/login"))
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Incidents")

    page.click("text=Declare")
    # Choosing the service reloads the form's fields; wait for the new ones before typing.
    page.locator("#a_impact").evaluate("el => el.dataset.stale = '1'")
    page.select_option("#service", "payments-api")
    expect(page.locator("#a_impact:not([data-stale])")).to_be_attached()
    page.fill("input[name=title]", "Card payments return 503")
    page.select_option("#a_impact", "degradation")
    page.select_option("#a_criticality", "internal")
    page.select_option("#a_restore_within", "immediately")
    expect(page.locator("#preview-severity")).to_have_text("P2")

    # Conditional field: the record count appears only once data exposure is ticked.
    expect(page.locator("#a_records_exposed")).to_be_hidden()
    page.check("input[name=a_data_exposure]")
    expect(page.locator("#a_records_exposed")).to_be_visible()
    page.fill("#a_records_exposed", "250")
    expect(page.locator("#preview-severity")).to_have_text("P1")
    expect(page.locator("#preview-reason")).to_contain_text("data_exposure is yes")
    page.screenshot(path=str(tmp_path / "intake.png"), full_page=True)

    page.click("#submit")
    expect(page).to_have_url(re.compile(r"/incidents/\d+$"))
    expect(page.locator("#incident-severity")).to_have_text("P1")
    expect(page.locator("#severity-reason")).to_contain_text("rule 'data-exposure'")
    expect(page.locator("#timeline")).to_contain_text("Declared P1 incident on payments-api")

    page.click("button[data-action=acknowledge]")
    expect(page.locator("#incident-status")).to_have_text("acknowledged")
    expect(page.locator("#timeline")).to_contain_text("Status triggered → acknowledged")
    page.screenshot(path=str(tmp_path / "incident.png"), full_page=True)

    # A second responder's note reaches this page live (server-sent events), without reload.
    other = page.context.new_page()
    other.goto(page.url)
    other.fill("textarea[name=text]", "Rolled back the 14:02 deploy")
    other.click("form.note-form button")
    expect(other.locator("#timeline")).to_contain_text("Rolled back the 14:02 deploy")
    expect(page.locator("#timeline")).to_contain_text("Rolled back the 14:02 deploy",
                                                      timeout=15_000)

    # The P1's response: its roles (the demo's Incident Commander from its schedule) and its
    # checkpoints. Ticking a containment item is an htmx swap; a handoff reloads the page.
    expect(page.locator("#roles")).to_contain_text("Incident Commander")
    expect(page.locator("#checkpoints")).to_contain_text("Containment")
    item = page.locator("#checkpoints li.task.open button.check-item").first
    expect(item).to_have_text("☐")
    item.click()
    expect(page.locator("#checkpoints li.task.open button.check-item").first).to_have_text("☑")
    expect(page.locator("#timeline")).to_contain_text("☑ Confirm the impact is real",
                                                      timeout=15_000)
    row = page.locator("#roles tr", has_text="Communications Lead")
    row.locator("summary").click()
    row.locator("select[name=person]").select_option("me")
    row.locator("input[name=reason]").fill("Erin is out today")
    row.locator("form button").first.click()
    expect(page.locator("#timeline")).to_contain_text("Communications Lead handed over from Erin")
    page.screenshot(path=str(tmp_path / "response.png"), full_page=True)

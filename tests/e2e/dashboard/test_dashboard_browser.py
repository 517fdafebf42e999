"""The dashboard in a real Chromium against the real stack, as a person uses it.

An admin signs in through the Slack emulator's sign-in page, flips a feature flag and sees a
chat reply change, replays a dead letter and sees the reply arrive in Slack; a user edits and
deletes facts and exports them. Every page is saved as a screenshot (desktop and 390 px phone
width) under `.artifacts/dashboard/` to be looked at.

Real: Debian's Chromium (Playwright), jeeves-dashboard, the Slack emulator, gateway,
dispatcher, poster, echo, data, tokens, PostgreSQL, etcd. Locators go by role and label, so a
control without an accessible name fails the test.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from browser_stack import Stack
from playwright.async_api import Browser, BrowserContext, Page, expect

from support.browser import artifact_dir

pytestmark = pytest.mark.e2e
SHOTS = artifact_dir("dashboard")
PHONE = {"width": 390, "height": 844}


async def shot(page: Page, name: str, *, phone: bool = False) -> None:
    """Save the page as it looks now (full page), at desktop and optionally phone width."""
    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    if phone:
        size = page.viewport_size
        await page.set_viewport_size(PHONE)
        await page.screenshot(path=str(SHOTS / f"{name}-phone.png"), full_page=True)
        if size:
            await page.set_viewport_size(size)


@pytest.fixture(name="context")
async def fixture_context(browser: Browser) -> AsyncIterator[BrowserContext]:
    context = await browser.new_context(viewport={"width": 1200, "height": 800})
    context.set_default_timeout(10_000)
    try:
        yield context
    finally:
        await context.close()


async def sign_in(page: Page, stack: Stack, person: str) -> None:
    await page.goto(stack.url + "/")
    await page.get_by_role("link", name="Sign in with Slack").click()
    await expect(page.get_by_role("heading", name="Sign in to jeeves-emulator")).to_be_visible()
    await page.get_by_role("button", name=f"Continue as {person}").click()
    await expect(page.get_by_text("Signed in as")).to_be_visible()


def help_replies(stack: Stack, since: float) -> list[str]:
    return [
        m["text"]
        for m in stack.pipeline.slack.messages("C0DASH", since=since)
        if m["text"].startswith("Here is what I can do")
    ]


async def ask_help(stack: Stack) -> str:
    """Say `@jeeves help` in #C0DASH and return Jeeves's answer."""
    since = time.time() - 0.001
    stack.pipeline.slack.send_mention("help", channel="C0DASH")
    for _ in range(200):
        found = help_replies(stack, since)
        if found:
            return found[-1]
        await asyncio.sleep(0.05)
    raise AssertionError("no help reply")


async def test_an_admin_steers_jeeves_from_the_dashboard(
    stack: Stack, context: BrowserContext
) -> None:
    page = await context.new_page()
    await page.goto(stack.url + "/")
    await expect(page.get_by_role("link", name="Sign in with Slack")).to_be_visible()
    await shot(page, "01-sign-in", phone=True)
    await page.get_by_role("link", name="Sign in with Slack").click()
    await expect(page.get_by_role("button", name="Continue as Alice")).to_be_visible()
    await shot(page, "02-slack-emulator-sign-in")
    await page.get_by_role("button", name="Continue as Alice").click()
    await expect(page.get_by_role("heading", name="Usage", level=1)).to_be_visible()
    await expect(page.get_by_text("Signed in as")).to_contain_text("Alice")
    await shot(page, "03-admin-usage", phone=True)

    await page.get_by_role("link", name="Actions").click()
    await expect(page.get_by_role("rowheader", name="echo")).to_be_visible()
    await expect(page.get_by_text("no Kubernetes API is configured")).to_be_visible()
    await shot(page, "04-admin-actions", phone=True)

    # A flag flipped in the browser changes Jeeves's next answer in Slack.
    assert "dashboard" not in await ask_help(stack)
    await page.get_by_role("link", name="Feature flags").click()
    await expect(page.get_by_text("No flags are set.")).to_be_visible()
    await page.get_by_label("Flag name").fill("help-dashboard-link")
    await page.get_by_role("button", name="Create flag").click()
    switch = page.get_by_role("switch", name="Enabled")
    await expect(switch).not_to_be_checked()
    assert "dashboard" not in await ask_help(stack)
    await switch.click()
    await expect(page.get_by_role("status")).to_contain_text("Saved help-dashboard-link: on")
    flipped = time.monotonic()
    assert "see and change what I remember about you" in await ask_help(stack)
    print(f"flag flip to changed reply: {time.monotonic() - flipped:.2f} s")
    await expect(switch).to_be_checked()
    await shot(page, "05-admin-flags", phone=True)

    # A message whose action keeps failing becomes a dead letter; replayed, it is answered.
    pipeline = stack.pipeline
    pipeline.echo_fail(count=4, status=500)
    since = time.time()
    pipeline.slack.send_mention("echo from a dead letter", channel="C0DEAD")
    for _ in range(300):
        _, body = pipeline.admin("GET", pipeline.dispatcher.url + "/v1/dead-letters")
        if body["dead_letters"]:
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("the message never became a dead letter")
    pipeline.echo_heal()
    job_id = body["dead_letters"][0]["id"]
    await page.get_by_role("link", name="Dead letters").click()
    await expect(page.get_by_role("heading", name=f"dispatcher job {job_id}")).to_be_visible()
    await page.get_by_role("button", name=f"Inspect dispatcher/{job_id}").click()
    await expect(page.get_by_role("heading", name="Payload")).to_be_visible()
    await shot(page, "06-admin-dead-letters", phone=True)
    await page.get_by_role("button", name=f"Replay dispatcher/{job_id}").click()
    await expect(page.get_by_text("replayed: queued again")).to_be_visible()
    [reply] = await asyncio.to_thread(pipeline.slack.wait_for_messages, 1, channel="C0DEAD")
    assert reply["text"] == "from a dead letter"
    assert float(reply["ts"]) > since

    await page.get_by_role("link", name="Audit log").click()
    await expect(page.get_by_role("rowheader", name=f"dispatcher/{job_id}")).to_be_visible()
    await expect(page.get_by_role("cell", name="flag.update").first).to_be_visible()
    await shot(page, "07-admin-audit", phone=True)

    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_role("link", name="Sign in with Slack")).to_be_visible()


async def test_a_user_sees_edits_deletes_and_exports_their_facts(
    stack: Stack, context: BrowserContext
) -> None:
    page = await context.new_page()
    await sign_in(page, stack, "Bob")
    await expect(page.get_by_role("heading", name="My facts", level=1)).to_be_visible()
    await expect(page.get_by_role("link", name="Feature flags")).to_have_count(0)
    await expect(page.get_by_text("Jeeves knows no facts about you.")).to_be_visible()

    await page.get_by_label("Name (e.g. location, timezone, units)").fill("location")
    await page.get_by_label("Value", exact=True).fill("Porto")
    await page.get_by_role("button", name="Add fact").click()
    await expect(page.get_by_role("status")).to_contain_text("Saved location")
    await page.get_by_label("Name (e.g. location, timezone, units)").fill("units")
    await page.get_by_label("Value", exact=True).fill("metric")
    await page.keyboard.press("Enter")  # the keyboard submits the form too
    await expect(page.get_by_role("cell", name="metric")).to_be_visible()

    await page.get_by_role("button", name="Edit location").click()
    await page.get_by_label("New value for location").fill("Lisbon")
    await page.get_by_role("button", name="Save", exact=True).click()
    await expect(page.get_by_role("cell", name="Lisbon")).to_be_visible()
    await shot(page, "08-user-facts", phone=True)

    await page.get_by_role("button", name="Delete units").click()
    await page.get_by_role("button", name="Yes, delete").click()
    await expect(page.get_by_role("status")).to_contain_text("Deleted units")
    await expect(page.get_by_role("cell", name="metric")).to_have_count(0)

    await page.get_by_role("link", name="Export or forget").click()
    async with page.expect_download() as download_info:
        await page.get_by_role("link", name="Download my data (JSON)").click()
    download = await download_info.value
    exported = json.loads(Path(await download.path()).read_text())
    assert exported["user"]["slack_id"] == "U0BOB"
    assert {f["key"]: f["value"] for f in exported["facts"]} == {"location": "Lisbon"}
    forget = page.get_by_role("button", name="Forget everything about me")
    await expect(forget).to_be_disabled()
    await shot(page, "09-user-export-forget", phone=True)

    await page.get_by_role("link", name="Connected services").click()
    await expect(page.get_by_text("No services are connected.")).to_be_visible()
    await shot(page, "10-user-connections", phone=True)

    # A user who types an admin page's address gets their own pages, not the admin one.
    await page.goto(stack.url + "/flags")
    await expect(page.get_by_role("alert")).to_contain_text("for Jeeves admins")
    await shot(page, "11-user-admin-page-refused")


async def test_a_refused_sign_in_says_why(stack: Stack, context: BrowserContext) -> None:
    page = await context.new_page()
    await page.goto(stack.url + "/auth/callback?state=forged&code=stolen")
    await expect(page.get_by_role("alert")).to_contain_text("used already, expired")
    await shot(page, "12-sign-in-refused", phone=True)
    await page.keyboard.press("Tab")
    await expect(page.get_by_role("link", name="Sign in with Slack")).to_be_focused()

"""Every page of the staff console, found by following its own links from the queue as the
city-wide reviewer: axe-core's WCAG 2.2 AA rules find nothing at 390×844 and 1366×900; no page
scrolls sideways at 320 CSS px (WCAG 1.4.10) or on a phone at 200% zoom (195 CSS px; a
wide data table scrolls inside its own box);
every control, check boxes included, is at least 44×44 CSS px."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.browser.a11y import (
    VIEWPORTS,
    axe_violations,
    focus_ring,
    outline_contrast,
    sideways,
    small_targets,
    too_wide,
)
from tests.browser.test_console import CHROMIUM
from tests.browser.test_console import browser as browser  # the fixtures, shared
from tests.browser.test_console import site as site
from tests.console.seed import PASSWORD, World

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian chromium not installed at /usr/bin/chromium"
    ),
]

# WCAG 1.4.10's 320 CSS px, and a 390×844 phone at 200% zoom.
REFLOW = [(320, 640), (195, 422)]

# Pages the crawl must reach (it finds those added later as well).
EXPECTED = [
    "/console/progress",
    "/console/persons/",
    "/console/households/",
    "/console/employers",
    "/console/invites/locked",
    "/console/password",
]

# Downloads and actions, not pages.
NOT_PAGES = re.compile(r"\.(xlsx|csv|pdf)$|/logout$|/lang$")
# …and pages that answer a file when asked for one (?format=xlsx).
DOWNLOAD_QUERY = re.compile(r"(^|&)format=(xlsx|csv|pdf)(&|$)")


def _kind(url: str) -> str:
    """One page per route and query shape: /console/records/12 and /console/records/13 are
    the same page; /console/progress?level=street is another than /console/progress."""
    parts = urlsplit(url)
    path = re.sub(r"\d+", "N", parts.path)
    keys = sorted(k if k != "level" else f"level={v}" for k, v in parse_qsl(parts.query))
    return path + ("?" + "&".join(keys) if keys else "")


async def _console_pages(page: Any, base: str) -> list[str]:
    """Every kind of console page reachable by links from the queue, the record pages of
    each status too (they show different forms)."""
    seen: dict[str, str] = {}
    todo = [f"{base}/console/queue", f"{base}/console/queue?status=all"]
    while todo:
        url = todo.pop(0)
        kind = _kind(url)
        if kind in seen and "records/" not in url:
            continue
        seen.setdefault(kind, url)
        if "records/" in url:
            seen[url] = url  # every record: submitted, flagged, returned, confirmed, draft
        response = await page.goto(url)
        assert response is not None and response.status == 200, url
        links = await page.eval_on_selector_all("a[href]", "nodes => nodes.map(n => n.href)")
        for link in links:
            parts = urlsplit(link)
            if (
                not link.startswith(f"{base}/console/")
                or NOT_PAGES.search(parts.path)
                or DOWNLOAD_QUERY.search(parts.query)
            ):
                continue
            if _kind(link) not in seen or ("records/" in link and link not in seen):
                todo.append(link)
    return sorted(set(seen.values()))


async def _signed_in(browser: Any, base: str) -> tuple[Any, Any]:
    context = await browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = await context.new_page()
    await page.goto(f"{base}/console/login")
    await page.fill("input[name=username]", "city_admin")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_selector("table.queue")
    return context, page


async def test_every_console_page_passes_axe_reflows_and_has_large_targets(
    site: tuple[str, World, Any], browser: Any
) -> None:
    base, _world, _sessions = site
    anonymous = await browser.new_page(viewport={"width": 390, "height": 844})
    await anonymous.goto(f"{base}/console/login")
    login_found = await axe_violations(anonymous)
    login_small = await small_targets(anonymous)
    await anonymous.set_viewport_size({"width": 195, "height": 422})
    login_wide = await sideways(anonymous)
    await anonymous.close()

    context, page = await _signed_in(browser, base)
    try:
        pages = await _console_pages(page, base)
        # The crawl reached the pages the console has (and any added later).
        for expected in EXPECTED:
            assert any(expected in p for p in pages), (expected, pages)
        assert sum("/console/records/" in p for p in pages) >= 5
        violations: dict[str, list[str]] = {}
        if login_found:
            violations["login"] = login_found
        small: dict[str, list[str]] = {"login": login_small} if login_small else {}
        wide: dict[str, object] = {"login": login_wide} if login_wide else {}
        for url in pages:
            where = url.removeprefix(base)
            for name, (width, height) in VIEWPORTS.items():
                await page.set_viewport_size({"width": width, "height": height})
                await page.goto(url)
                found = await axe_violations(page)
                if found:
                    violations[f"{where} {name}"] = found
                tiny = await small_targets(page)
                if tiny:
                    small[f"{where} {name}"] = tiny
            for width, height in REFLOW:
                await page.set_viewport_size({"width": width, "height": height})
                await page.goto(url)
                extra = await sideways(page)
                if extra:
                    wide[f"{where} {width}px"] = f"{extra} px: {await too_wide(page)}"
    finally:
        await context.close()
    assert not violations, "axe-core WCAG 2.2 AA violations:\n" + "\n".join(
        f"[{k}]\n  " + "\n  ".join(v) for k, v in violations.items()
    )
    assert not wide, "pages that scroll sideways:\n" + "\n".join(
        f"[{k}] {v}" for k, v in wide.items()
    )
    assert not small, "targets smaller than 44×44 CSS px:\n" + "\n".join(
        f"[{k}] " + ", ".join(v) for k, v in small.items()
    )


async def test_console_outlines_and_focus_ring(site: tuple[str, World, Any], browser: Any) -> None:
    base, world, _sessions = site
    context, page = await _signed_in(browser, base)
    try:
        await page.goto(f"{base}/console/records/{world.records['plain']}")
        for selector in ("textarea[name=comment]", "input[name=enrolled_at]",
                         "button.secondary", "input[name=fields]"):  # fmt: skip
            control = page.locator(selector).first
            ratio = await outline_contrast(control)
            assert ratio >= 3, f"{selector}: outline contrast {ratio:.2f}:1"
            width = await focus_ring(page, control)
            assert 2 <= width <= 3, f"{selector}: focus ring {width} px"
        await page.goto(f"{base}/console/queue")
        ratio = await outline_contrast(page.locator(".filters select").first)
        assert ratio >= 3, f"queue filter: outline contrast {ratio:.2f}:1"
    finally:
        await context.close()

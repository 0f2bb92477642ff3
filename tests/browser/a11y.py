"""Accessibility checks in chromium: axe-core's WCAG 2.2 AA rules and the measurements an
automatic checker does not make (target sizes, sideways scrolling, where focus is).

axe-core is vendored in tests/browser/vendor/axe-core (from the npm registry, its licence
beside it): nothing is downloaded when the tests run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
WCAG22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
VIEWPORTS = {"phone": (390, 844), "desktop": (1366, 900)}
MIN_TARGET = 44  # CSS px, WCAG 2.5.5 (AAA) and the 适老化 rules; 2.5.8 (AA) asks only 24

# Every element a finger or a pointer can operate, as the page shows it now.
TARGETS = (
    "button:not([disabled]), a[href], input:not([type=hidden]):not([disabled]), select, textarea,"
    " summary, [role=button], [role=option], [tabindex]:not([tabindex='-1'])"
)


async def axe_violations(page: Any) -> list[str]:
    """The WCAG 2.2 A/AA violations axe-core finds on the page, one line each."""
    # Evaluated through the DevTools protocol, which the page's CSP does not govern.
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        await page.evaluate(AXE.read_text(encoding="utf-8"))
    found: list[dict[str, Any]] = await page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {
                runOnly: { type: "tag", values: tags }, resultTypes: ["violations"],
            });
            return result.violations.map(v => ({
                id: v.id, help: v.help,
                nodes: v.nodes.map(n => n.target.join(" ") + ": " + n.failureSummary),
            }));
        }""",
        WCAG22_AA,
    )
    return [f"{v['id']} ({v['help']}): {node}" for v in found for node in v["nodes"]]


async def small_targets(page: Any, minimum: int = MIN_TARGET) -> list[str]:
    """Visible operable elements smaller than ``minimum`` × ``minimum`` CSS px. A check box or
    radio button counts by its label when the label is what the finger presses; a link inside
    running text or a table cell is exempt."""
    found: list[str] = await page.evaluate(
        """([selector, minimum]) => {
            const out = [];
            for (const node of document.querySelectorAll(selector)) {
                const style = getComputedStyle(node);
                if (style.visibility === "hidden" || node.closest("[hidden]")) continue;
                let box = node.getBoundingClientRect();
                if (box.width === 0 && box.height === 0) continue;
                // A link in a sentence or a table cell is sized by its text (WCAG 2.5.8's
                // inline exception); links that stand alone (menus, buttons) are measured.
                if (node.tagName === "A" && style.display === "inline") continue;
                const label = node.closest("label");
                if (label && (node.type === "checkbox" || node.type === "radio")) {
                    box = label.getBoundingClientRect();
                }
                if (box.width + 0.5 < minimum || box.height + 0.5 < minimum) {
                    const name = (node.getAttribute("aria-label") || node.textContent
                                  || node.name || node.id || "").trim().slice(0, 30);
                    out.push(`${node.tagName.toLowerCase()} "${name}"`
                             + ` ${Math.round(box.width)}×${Math.round(box.height)}`);
                }
            }
            return out;
        }""",
        [TARGETS, minimum],
    )
    return found


async def sideways(page: Any) -> int:
    """How many CSS px the page scrolls sideways (0: it reflows)."""
    return int(
        await page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
    )


async def too_wide(page: Any) -> list[str]:
    """The innermost elements that stick out of the page on the right (why it scrolls), and
    text that runs out of its button or bubble."""
    found: list[str] = await page.evaluate(
        """() => {
            const limit = document.documentElement.clientWidth + 0.5;
            const out = [];
            for (const node of document.body.querySelectorAll("*")) {
                if (node.closest(".table-wrap")) continue;
                const box = node.getBoundingClientRect();
                if (box.right <= limit) continue;
                if ([...node.children].some(c => c.getBoundingClientRect().right > limit)) continue;
                const name = node.tagName.toLowerCase()
                    + (node.className ? "." + node.className : "");
                const text = (node.textContent || "").trim().slice(0, 20);
                out.push(`${name} "${text}" ${Math.round(box.right)}`);
            }
            // Text that runs out of its own button or bubble (a word that cannot break).
            for (const node of document.body.querySelectorAll("button, .bubble")) {
                if (node.closest("[hidden]") || node.clientWidth === 0) continue;
                if (getComputedStyle(node).overflowX !== "visible") continue;
                if (node.scrollWidth > node.clientWidth + 1) {
                    out.push(`text out of ${node.tagName.toLowerCase()} "`
                             + `${(node.textContent || "").trim().slice(0, 20)}"`);
                }
            }
            return out.slice(0, 8);
        }"""
    )
    return found


async def focused(page: Any) -> dict[str, str]:
    """What has the keyboard focus: tag, id, classes and accessible-name attributes."""
    info: dict[str, str] = await page.evaluate(
        """() => {
            const n = document.activeElement;
            return n ? { tag: n.tagName.toLowerCase(), id: n.id || "",
                         cls: n.className || "", text: (n.textContent || "").trim(),
                         state: n.getAttribute("data-state") || "" } : {};
        }"""
    )
    return info


# The contrast of an element's outline (its border colour) against what is behind it, and
# the width of its focus ring when focused from the keyboard (WCAG 1.4.11, 2.4.7, 2.4.13).
OUTLINE = """(node) => {
    const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
    const lum = ([r, g, b]) => {
        const f = (v) => {
            v /= 255;
            return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
        };
        return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    let back = node.parentElement, bg = [255, 255, 255];
    while (back) {
        const c = rgb(getComputedStyle(back).backgroundColor);
        if (c.length === 3 || (c.length === 4 && c[3] === 1)) { bg = c.slice(0, 3); break; }
        back = back.parentElement;
    }
    const edge = rgb(getComputedStyle(node).borderTopColor).slice(0, 3);
    const [a, b] = [lum(edge), lum(bg)].sort((x, y) => y - x);
    return (a + 0.05) / (b + 0.05);
}"""


async def outline_contrast(locator: Any) -> float:
    """The contrast ratio of the element's border against the background behind it."""
    return float(await locator.evaluate(OUTLINE))


async def focus_ring(page: Any, locator: Any) -> float:
    """The outline width (CSS px) of the element when it has the keyboard focus."""
    await locator.focus()
    await page.keyboard.press("Shift")  # a key press: the focus counts as keyboard focus
    return float(
        await locator.evaluate(
            "n => getComputedStyle(n).outlineStyle === 'none' ? 0"
            " : parseFloat(getComputedStyle(n).outlineWidth)"
        )
    )

"""The whole app driven in a real headless Chromium (Debian's, via Playwright; no browser download).

A screenshot of each tab is kept in test-artifacts/ for a person to look at.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


@pytest.fixture(scope="module")
def page(app_server):
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed: run `bash scripts/setup --dev`")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        pg = browser.new_page(viewport={"width": 1400, "height": 1000})
        pg.set_default_timeout(60_000)
        pg.goto(app_server["url"] + "/")
        pg.wait_for_selector("#draft textarea")
        yield pg
        browser.close()


def _value(page, selector: str) -> str:
    return page.locator(selector).input_value()


def _wait_value(page, selector: str, predicate: str = "v => v.length > 0"):
    page.wait_for_function(f"() => {{ const el = document.querySelector('{selector}'); return el && ({predicate})(el.value); }}")


def test_rewrite_tab(page, app_server):
    page.fill("#draft textarea", "喂，你的订单2023112845678明天发货，运费12元你自己出")
    page.click("#rewrite-btn")
    _wait_value(page, "#target textarea")
    out = _value(page, "#target textarea")
    assert "2023112845678" in out and "12元" in out and "你" not in out
    page.wait_for_selector("#rewrite-info :text('ms')")
    assert page.locator("#breaches").inner_text().count("喂") >= 1
    page.screenshot(path=str(ARTIFACTS / "tab-rewrite.png"), full_page=True)


def test_ctrl_enter_rewrites(page):
    page.fill("#draft textarea", "你等一下 我查查")
    page.fill("#target textarea", "")
    page.focus("#draft textarea")
    page.keyboard.press("Control+Enter")
    _wait_value(page, "#target textarea")
    assert "您" in _value(page, "#target textarea") or "请" in _value(page, "#target textarea")


def test_empty_draft_shows_message(page):
    page.fill("#draft textarea", "   ")
    page.click("#rewrite-btn")
    page.wait_for_selector("#rewrite-message :text('草稿')")


def test_html_in_draft_is_shown_as_text_never_executed(page):
    page.fill("#draft textarea", '<img src=x onerror="window.__pwned=1">你等着')
    page.click("#rewrite-btn")
    page.wait_for_function("() => document.querySelector('#target textarea').value.includes('onerror')")
    assert page.evaluate("() => window.__pwned === undefined")


def test_compare_tab_and_save_pair(page, app_server):
    page.get_by_role("tab", name="对比").click()
    page.fill("#compare-draft textarea", "不行 这个退不了 你自己没看清楚")
    page.click("#compare-btn")
    _wait_value(page, "#compare-rules textarea")
    assert "退" in _value(page, "#compare-rules textarea")
    page.locator("#picked").get_by_text("规则引擎").click()
    _wait_value(page, "#final-reply textarea")
    page.click("#save-btn")
    page.wait_for_selector("#save-status :text('已保存')")
    assert Path(app_server["feedback"]).read_text(encoding="utf-8").count("\n") == 1
    page.screenshot(path=str(ARTIFACTS / "tab-compare.png"), full_page=True)


def test_eval_tab(page):
    page.get_by_role("tab", name="评测").click()
    page.locator("label").filter(has_text="每个评测集最多条数").locator("input").fill("5")
    page.click("#eval-btn")
    page.wait_for_selector("#eval-table :text('chrF')", timeout=180_000)
    page.screenshot(path=str(ARTIFACTS / "tab-eval.png"), full_page=True)


def test_blind_judging_in_the_eval_tab(page, app_server):
    """A judge opens 评判, sees one draft with anonymous candidates, marks each, and the judgments
    land in the store (keyed by draft + output, no system names on screen)."""
    import json

    page.get_by_role("tab", name="评测").click()
    page.locator("#judge-panel").get_by_text("评判（盲评）").click()
    page.fill("#judge-id textarea", "browser-judge")
    page.locator("#judge-limit input").fill("1")
    page.click("#judge-start")
    page.wait_for_selector("#judge-progress :text('第 1 / 1 条')", timeout=120_000)
    shown = [i for i in range(6) if page.locator(f"#judge-cand-{i}").is_visible()]
    assert len(shown) >= 2  # at least the system output and a hidden control
    screen = page.locator("#judge-panel").inner_text()
    assert "rules" not in screen.split("系统")[-1].split("开始评判")[-1]  # names stay hidden below the controls
    page.click("#judge-submit")  # nothing marked yet: refused, nothing saved
    page.wait_for_selector("#judge-message :text('请为每个候选')")
    for i in shown:
        page.locator(f"#judge-verdict-{i}").get_by_text("不可用" if i == shown[0] else "可用", exact=True).click()
    page.locator(f"#judge-why-{shown[0]}").get_by_text("仍然过于生硬").click()
    page.click("#judge-submit")
    page.wait_for_selector("#judge-progress :text('全部完成')")
    lines = [json.loads(x) for p in Path(app_server["judgments"]).glob("*.jsonl") for x in p.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == len(shown) and {x["judge"] for x in lines} == {"browser-judge"}
    assert sorted(x["verdict"] for x in lines) == sorted(["bad"] + ["ok"] * (len(shown) - 1))
    assert [x["reasons"] for x in lines if x["verdict"] == "bad"] == [["too_curt"]]
    page.screenshot(path=str(ARTIFACTS / "tab-judge.png"), full_page=True)

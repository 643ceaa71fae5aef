"""The web page in a real browser: Debian's chromium, driven by Selenium through Debian's
chromium-driver (installed by `make setup-dev` when it runs as root). The server is the
real `policybot web` process on the real index; the questions are real.

Checked: the gold passage and its citation appear; the buttons work; the same flows with
the keyboard alone and with JavaScript off; a permalink after the server restarts; axe-core
finds no serious or critical violations; screenshots at 375 px and 1280 px are saved
(BROWSER_ARTIFACTS below, printed at the end of the session). Without chromium the tests
fail with one line that says how to install it: they never skip."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest

from .web_harness import GOLD_DOC, GOLD_PASSAGE, GOLD_PUBLISHER, GOLD_QUESTION, free_port

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
INSTALL = "chromium and chromium-driver are missing: run `make setup-dev` as root, or `sudo apt-get install chromium chromium-driver`"
WAIT = 60


class WebProcess:
    """`policybot web` as a child process; restartable on the same data directory."""

    def __init__(self, index_dir: Path, data_dir: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "POLICYBOT_INDEX_DIR": str(index_dir),
            "POLICYBOT_DATA_DIR": str(data_dir),
            "POLICYBOT_RATE_LIMIT_PER_MINUTE": "1000",
            "POLICYBOT_LOG_LEVEL": "WARNING",
        }
        self.env.pop("POLICYBOT_TELEGRAM_TOKEN", None)
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "web", "--port", str(self.port)], env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"policybot web exited: {self.proc.stderr.read()}")
            try:
                with urllib.request.urlopen(self.base + "/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise AssertionError("policybot web never became healthy")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                assert self.proc.wait(30) == 0
            except subprocess.TimeoutExpired:
                self.proc.kill()
                raise


@pytest.fixture(scope="session")
def site(built_index, tmp_path_factory):
    server = WebProcess(built_index[0], tmp_path_factory.mktemp("web-data"))
    server.start()
    yield server
    server.stop()


ARTIFACTS = Path(__file__).resolve().parent.parent / ".artifacts" / "browser"


@pytest.fixture(scope="session")
def artifacts():
    """Screenshots go to .artifacts/browser/ (git-ignored; pytest's own temporary folders
    are rotated away after three runs): one place to look at them after `make test`."""
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    yield ARTIFACTS
    print(f"\nbrowser artifacts (screenshots): {ARTIFACTS}")


@pytest.fixture(scope="session")
def browser():
    if not (Path(CHROMIUM).exists() and Path(DRIVER).exists()):
        pytest.fail(INSTALL, pytrace=False)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,900", "--lang=nb-NO", "--force-color-profile=srgb"):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=Service(DRIVER))
    driver.set_page_load_timeout(WAIT)
    yield driver
    driver.quit()


@pytest.fixture
def page(browser, site):
    """The browser with JavaScript on, a desktop window and fresh cookies."""
    browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": False})
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    browser.get(site.base + "/health")
    browser.delete_all_cookies()
    return browser


def _wait(driver, condition, timeout=WAIT):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(condition)


def _articles(driver, kind):
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, f"#svar article[data-kind='{kind}']")


def _button(article, label):
    from selenium.webdriver.common.by import By

    return next(b for b in article.find_elements(By.CSS_SELECTOR, "button, a.knapp") if b.text.startswith(label) or b.get_attribute("aria-label") == label)


def test_a_question_answered_without_reload_with_passage_citation_and_working_buttons(page, site):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    page.get(site.base + "/")
    page.execute_script("window.__same_page = true")
    box = page.find_element(By.ID, "spm")
    box.send_keys(GOLD_QUESTION, Keys.ENTER)
    answer = _wait(page, lambda d: (_articles(d, "answer") or [None])[0])
    text = answer.text
    assert GOLD_PASSAGE in text and GOLD_DOC in text and GOLD_PUBLISHER in text
    assert page.execute_script("return window.__same_page === true")  # a chat: no reload
    assert "/?q=" in page.current_url  # the address names the question

    _button(answer, "📖 Sammenheng 1").click()
    context = _wait(page, lambda d: (_articles(d, "context") or [None])[0])
    assert "øke bemanningen i barnehager i levekårsutsatte områder" in context.text
    _button(answer, "Svaret var nyttig").click()
    _wait(page, lambda d: "Takk" in d.find_element(By.ID, "status").text)

    page.find_element(By.ID, "spm").send_keys("Hva vil dere gjøre for politiet?", Keys.ENTER)
    _wait(page, lambda d: len(_articles(d, "answer")) == 2)
    second = _articles(page, "answer")[1]
    _button(second, "Vis flere").click()
    _wait(page, lambda d: d.find_elements(By.CSS_SELECTOR, "#svar article[data-kind='answer'] li[value='4']"))
    assert len(_articles(page, "answer")) == 2  # the next page replaced its answer

    page.find_element(By.ID, "f-sjekk").send_keys("Ap vil legge ned kontantstøtten", Keys.ENTER)
    check = _wait(page, lambda d: (_articles(d, "check") or [None])[0])
    assert "kontantstøtten" in check.text.lower()
    page.find_element(By.CSS_SELECTOR, "a[data-api-get='topics']").click()
    menu = _wait(page, lambda d: next((a for a in _articles(d, "message") if "Velg et dokument" in a.text), None))
    menu.find_elements(By.CSS_SELECTOR, "button")[0].click()
    _wait(page, lambda d: _articles(d, "section"))


def _tab_to(driver, predicate, limit=60):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    for _ in range(limit):
        ActionChains(driver).send_keys(Keys.TAB).perform()
        el = driver.switch_to.active_element
        if predicate(el):
            return el
    raise AssertionError("never reached the element with Tab")


def test_the_keyboard_alone_asks_and_presses_buttons_with_visible_focus(page, site):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    page.get(site.base + "/")
    box = _tab_to(page, lambda el: el.get_attribute("id") == "spm")
    assert page.execute_script("return getComputedStyle(arguments[0]).outlineStyle", box) != "none"
    ActionChains(page).send_keys(GOLD_QUESTION, Keys.ENTER).perform()
    answer = _wait(page, lambda d: (_articles(d, "answer") or [None])[0])
    assert GOLD_PASSAGE in answer.text
    button = _tab_to(page, lambda el: el.text.startswith("📖 Sammenheng 1"))
    style = page.execute_script("const s = getComputedStyle(arguments[0]); return [s.outlineStyle, s.outlineWidth]", button)
    assert style[0] != "none" and style[1] != "0px"  # focus is visible
    ActionChains(page).send_keys(Keys.ENTER).perform()
    _wait(page, lambda d: _articles(d, "context"))


def test_without_javascript_the_page_is_plain_html_that_works(page, site):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    page.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
    try:
        page.get(site.base + "/")
        page.find_element(By.ID, "spm").send_keys(GOLD_QUESTION, Keys.ENTER)
        _wait(page, lambda d: "/?q=" in d.current_url)
        answer = _articles(page, "answer")[0]
        assert GOLD_PASSAGE in answer.text and GOLD_DOC in answer.text
        _button(answer, "📖 Sammenheng 1").click()  # a form POST: a new page
        _wait(page, lambda d: d.current_url.endswith("/knapp"))
        assert "øke bemanningen i barnehager" in _articles(page, "context")[0].text
        page.get(site.base + "/")
        page.find_element(By.ID, "f-sammenlign").send_keys("politikontakt", Keys.ENTER)
        _wait(page, lambda d: "/sammenlign?t=" in d.current_url)
        assert len(_articles(page, "compare")[0].find_elements(By.CSS_SELECTOR, "li.passasje")) >= 2
        page.find_element(By.CSS_SELECTOR, "a[href='/filter']").click()
        _wait(page, lambda d: d.current_url.endswith("/filter"))
        menu = _articles(page, "message")[0]
        _button(menu, "Arbeiderpartiets migrasjonsutvalg").click()
        _wait(page, lambda d: d.current_url.endswith("/knapp"))
        assert "✅ Arbeiderpartiets migrasjonsutvalg" in page.find_element(By.ID, "svar").text
        page.get(site.base + "/?q=" + quote("kontantstøtten"))
        answer = _articles(page, "answer")[0]
        assert "Søkte i" in answer.text and "Arbeiderpartiets migrasjonsutvalg" in answer.text
        page.find_element(By.CSS_SELECTOR, "form[action='/nullstill'] button").click()
        _wait(page, lambda d: d.current_url.endswith("/nullstill"))
        assert "alle dokumenter" in page.find_element(By.ID, "svar").text
    finally:
        page.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": False})


def test_a_permalink_opens_the_same_answer_after_the_server_restarts(page, site):
    from selenium.webdriver.common.by import By

    page.get(site.base + "/?q=" + quote(GOLD_QUESTION))
    link = page.find_element(By.CSS_SELECTOR, "a[data-permalink]").get_attribute("href")
    site.stop()
    site.start()
    page.get(link)
    answer = _articles(page, "answer")[0]
    assert GOLD_PASSAGE in answer.text and GOLD_DOC in answer.text
    og = page.find_element(By.CSS_SELECTOR, "meta[property='og:description']").get_attribute("content")
    assert GOLD_PASSAGE in og


def _axe_script() -> str:
    """axe-core 4.x as it ships inside the axe-playwright-python wheel (axe-selenium-python
    ships axe-core 3.1 from 2018, which misses many of today's rules)."""
    import axe_playwright_python

    return str(Path(axe_playwright_python.__file__).parent / "axe.min.js")


def _axe(driver) -> list[dict]:
    from axe_selenium_python import Axe

    axe = Axe(driver, script_url=_axe_script())
    axe.inject()
    assert driver.execute_script("return axe.version").startswith("4.")
    result = axe.run(options="{runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}}")
    return [v for v in result["violations"] if v["impact"] in ("serious", "critical")]


def test_axe_finds_no_serious_or_critical_violations(page, site):
    for url in ("/", "/?q=" + quote(GOLD_QUESTION), "/tema", "/sammenlign?t=politikontakt"):
        page.get(site.base + url)
        bad = _axe(page)
        assert not bad, (url, [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3]) for v in bad])


def _shoot(page, path: Path, width: int) -> None:
    page.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 800})
    height = page.execute_script("return document.documentElement.scrollHeight")
    page.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": width, "height": min(height, 4000), "deviceScaleFactor": 1, "mobile": width < 800})
    page.save_screenshot(str(path))


def test_screenshots_at_phone_and_desktop_width(page, site, artifacts):
    from selenium.webdriver.common.by import By

    for name, url in (("home", "/"), ("not-covered", "/?q=" + quote("Hva mener Høyre om formuesskatten?")), ("check", "/sjekk?p=" + quote("Ap vil legge ned kontantstøtten"))):
        page.get(site.base + url)
        for width in (375, 1280):
            _shoot(page, artifacts / f"{name}-{width}.png", width)
    page.get(site.base + "/?q=" + quote(GOLD_QUESTION))
    for width in (375, 1280, 320):
        page.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 800})
        height = page.execute_script("return document.documentElement.scrollHeight")
        page.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": width, "height": min(height, 4000), "deviceScaleFactor": 1, "mobile": width < 800})
        scroll = page.execute_script("return document.documentElement.scrollWidth")
        assert scroll <= width, f"the page scrolls sideways at {width} px ({scroll} px wide)"
        assert page.find_element(By.ID, "spm").is_displayed()
        page.save_screenshot(str(artifacts / f"answer-{width}.png"))
        assert (artifacts / f"answer-{width}.png").stat().st_size > 10_000
    page.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})

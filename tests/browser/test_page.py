"""The try-it page (ClassifyPage On) and the evaluation report in a real browser: Debian's
chromium, headless, driven by selenium through Debian's chromedriver, against Debian's apache2 on
a loopback port with the module built by cargo and golden sklearn models.

Run by scripts/test:  CLASSIFY_MODULE=target/debug/libmod_classify.so \
    CLASSIFY_BIN=target/debug/classify /usr/bin/python3 -m pytest -q tests/browser
Screenshots are written to target/browser-artifacts/.
"""

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts" / "lib"))
import httpd  # noqa: E402  (the project's one Apache harness)

GOLDEN = ROOT / "crates/classify-core/testdata/golden"
ARTIFACTS = ROOT / "target/browser-artifacts"
# A strict policy set by Apache itself, on top of the module's own.
STRICT_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; object-src 'none'"
LOOPBACK = urllib.request.build_opener(urllib.request.ProxyHandler({}))
MODELS = {
    # Linear word (1, 2)-grams: explanations placed on the text.
    "linear": GOLDEN / "count_word12_linearsvc_multi.model.json",
    # A forest: no explanation, and the page says why.
    "forest": GOLDEN / "randomforest_tfidf_multi.model.json",
    # Several labels per text.
    "tags": ROOT / "crates/classify-core/testdata/tiny-multilabel.model.json",
    # A number per text, explained.
    "rating": ROOT / "crates/classify-core/testdata/tiny-regression.model.json",
}


def required(variable):
    value = os.environ.get(variable)
    if not value or not Path(value).exists():
        pytest.fail(f"{variable} must name the built file (scripts/test sets it); got {value!r}")
    return Path(value).resolve()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    module = required("CLASSIFY_MODULE")
    body = "LoadModule headers_module /usr/lib/apache2/modules/mod_headers.so\n"
    for name, path in MODELS.items():
        body += (f"<Location /{name}>\n  SetHandler classify\n  ClassifyModel {path}\n"
                 f"  ClassifyPage On\n"
                 f"  Header always set Content-Security-Policy \"{STRICT_CSP}\"\n</Location>\n")
    body += f"<Location /off>\n  SetHandler classify\n  ClassifyModel {MODELS['linear']}\n</Location>\n"
    apache = httpd.Apache.configure(tmp_path_factory.mktemp("apache"), mpm="event",
                                    modules=[("classify_module", str(module))], body=body)
    apache.start(path="/linear?text=x")
    yield apache
    apache.stop()


@pytest.fixture(scope="module")
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1100,1400", "--no-proxy-server"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path="/usr/bin/chromedriver")
    driver = webdriver.Chrome(options=options, service=service)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()


def console_errors(driver):
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def api(server, location, request):
    """The JSON API's answer, as a machine client gets it."""
    data = json.dumps(request).encode()
    call = urllib.request.Request(server.url(location), data=data, method="POST",
                                  headers={"Content-Type": "application/json",
                                           "Accept": "application/json"})
    with LOOPBACK.open(call, timeout=10) as response:
        return json.load(response)


def classify_in_page(driver, server, location, text, *, keyboard=False):
    driver.get(server.url(location))
    box = driver.find_element(By.ID, "text")
    box.clear()
    box.send_keys(text)
    if keyboard:
        box.send_keys(Keys.CONTROL, Keys.ENTER)
    else:
        driver.find_element(By.ID, "submit").click()
    WebDriverWait(driver, 10).until(expected_conditions.visibility_of_element_located((By.ID, "result")))
    WebDriverWait(driver, 10).until(lambda d: d.find_element(By.ID, "answer").get_attribute("data-answer"))


def test_the_page_answers_as_the_api_and_draws_the_explanation(server, browser):
    text = "Arcade shooter game: an arcade game with levels and a high score table"
    classify_in_page(browser, server, "/linear", text, keyboard=True)
    expected = api(server, "/linear", {"text": text, "explain": 12, "places": True, "top": 100})
    assert browser.find_element(By.ID, "answer").get_attribute("data-answer") == str(expected["label"])
    # Named as the metrics and the inference protocol name it (the file's stem here).
    assert browser.find_element(By.ID, "model-name").text == "count_word12_linearsvc_multi"
    # One bar per class, in the API's ranking.
    bars = [e.get_attribute("data-label") for e in browser.find_elements(By.CSS_SELECTOR, "#bars .bar-label")]
    assert bars == [str(entry["label"]) for entry in expected["top"]]
    # The table lists the API's contributions, in order.
    rows = [e.get_attribute("data-feature") for e in browser.find_elements(By.CSS_SELECTOR, "#contributions tbody tr")]
    assert rows == [entry["feature"] for entry in expected["explanation"]]
    # The highlighted n-grams are exactly those of the explanation that occur in the text, each
    # coloured by its side.
    marks = browser.find_elements(By.CSS_SELECTOR, "#explained mark")
    drawn = set()
    for mark in marks:
        drawn.update(json.loads(mark.get_attribute("data-features")))
    placed = {e["feature"] for e in expected["explanation"] if e["places"]}
    assert drawn == placed and placed, (drawn, placed)
    positive = {e["feature"] for e in expected["explanation"] if e["contribution"] > 0 and e["places"]}
    for mark in marks:
        features = json.loads(mark.get_attribute("data-features"))
        if len(features) == 1:
            side = "for" if features[0] in positive else "against"
            assert mark.get_attribute("class") == side, features
    assert browser.find_element(By.ID, "explained").text == text
    assert console_errors(browser) == []
    browser.save_screenshot(str(ARTIFACTS / "page.png"))


def test_text_is_shown_as_text_never_run(server, browser):
    text = "<script>alert('x')</script><img src=x onerror=alert(2)> arcade game"
    classify_in_page(browser, server, "/linear", text)
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text  # noqa: B018  (raises when no alert was opened)
    assert browser.find_element(By.ID, "explained").text == text
    assert len(browser.find_elements(By.TAG_NAME, "script")) == 1
    assert browser.find_elements(By.CSS_SELECTOR, "#explained img") == []
    assert console_errors(browser) == []


def test_a_model_without_explanations_says_why(server, browser):
    classify_in_page(browser, server, "/forest", "a puzzle game for children")
    expected = api(server, "/forest", {"text": "a puzzle game for children", "top": 100})
    assert browser.find_element(By.ID, "answer").get_attribute("data-answer") == str(expected["label"])
    reason = browser.find_element(By.ID, "no-explanation")
    assert reason.is_displayed() and "explain" in reason.text, reason.text
    assert not browser.find_element(By.ID, "explanation").is_displayed()
    # Probabilities: the title says so.
    assert browser.find_element(By.ID, "bars-title").text == "Probability per class"
    assert console_errors(browser) == []


def test_a_multi_label_model_shows_its_labels(server, browser):
    classify_in_page(browser, server, "/tags", "crash bug")
    assert json.loads(browser.find_element(By.ID, "answer").get_attribute("data-answer")) == ["bug", "urgent"]
    chosen = browser.find_elements(By.CSS_SELECTOR, "#bars .bar.chosen")
    assert len(chosen) == 2
    assert console_errors(browser) == []


def test_a_regressor_shows_its_number_and_why(server, browser):
    classify_in_page(browser, server, "/rating", "Good phone")
    assert browser.find_element(By.ID, "answer").get_attribute("data-answer") == "2.25"
    assert not browser.find_element(By.ID, "ranking").is_displayed()
    drawn = set()
    for mark in browser.find_elements(By.CSS_SELECTOR, "#explained mark"):
        drawn.update(json.loads(mark.get_attribute("data-features")))
    assert drawn == {"good", "good phone", "phone"}, drawn
    assert console_errors(browser) == []


def test_phone_width_has_no_sideways_scrolling(server, browser):
    browser.set_window_size(375, 800)
    try:
        classify_in_page(browser, server, "/linear", "arcade shooter game " * 20)
        overflow = browser.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, overflow
        browser.save_screenshot(str(ARTIFACTS / "page-phone.png"))
    finally:
        browser.set_window_size(1100, 1400)


def test_machine_clients_get_todays_answers(server):
    def get(location, accept):
        request = urllib.request.Request(server.url(location), headers={"Accept": accept} if accept else {})
        with LOOPBACK.open(request, timeout=10) as response:
            return response.headers.get("Content-Type"), response.read()
    # curl's Accept, and JSON: the metadata answer, as without ClassifyPage.
    for accept in ("*/*", "application/json", None):
        kind, body = get("/linear", accept)
        assert kind.startswith("application/json") and json.loads(body)["classes"], accept
    # A browser where the page is off: the metadata too.
    kind, _ = get("/off", "text/html,*/*;q=0.8")
    assert kind.startswith("application/json")
    kind, body = get("/linear", "text/html,*/*;q=0.8")
    assert kind.startswith("text/html") and b"classify-page" in body


def test_the_report_renders_without_errors(browser, tmp_path):
    classify = required("CLASSIFY_BIN")
    cases = [json.loads(line) for line in (GOLDEN / "count_word12_linearsvc_multi.cases.jsonl").open()]
    data = tmp_path / "held-out.tsv"
    with data.open("w", encoding="utf-8") as out:
        for index, case in enumerate(cases):
            text = case["text"].replace("\t", " ").replace("\n", " ").replace("\r", " ")
            # Every fourth text gets another case's label, so there are confusions to draw.
            label = cases[(index + 1) % len(cases)]["label"] if index % 4 == 0 else case["label"]
            out.write(f"{label}\t{text}\n")
    report = tmp_path / "report.html"
    figures = json.loads(subprocess.run(
        [str(classify), "eval", "-m", str(MODELS["linear"]), "--data", str(data), "--json",
         "--report", str(report)], check=True, capture_output=True, text=True).stdout)
    browser.get(report.as_uri())
    cells = browser.find_elements(By.CSS_SELECTOR, "#confusion rect[data-count]")
    labels = figures["evaluation"]["labels"]
    assert len(cells) == len(labels) ** 2
    for cell in cells:
        t = labels.index(cell.get_attribute("data-true"))
        p = labels.index(cell.get_attribute("data-predicted"))
        assert int(cell.get_attribute("data-count")) == figures["evaluation"]["confusion_matrix"][t][p]
    assert browser.find_element(By.ID, "accuracy").text == f"{figures['evaluation']['accuracy']:.4f}"
    assert browser.find_elements(By.CSS_SELECTOR, "#confusions tr")
    assert console_errors(browser) == []
    browser.save_screenshot(str(ARTIFACTS / "report.png"))

"""The rendered site: the page is in sync, the strict build is clean, and a real browser agrees.

The book is built once per session (``jupyter-book build -W -n --keep-going``) into a
temporary folder, served on 127.0.0.1 by a ``http.server`` thread, and read by Debian's
headless Chromium through Selenium (never a downloaded browser or driver). Screenshots
of the chapter page in each framework go to ``test-output/``.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
import yaml

from d2l_bn import FRAMEWORKS

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = "chapters/batch_norm"
EXERCISES = "chapters/exercises"
LABELS = {"mxnet": "MXNet", "pytorch": "PyTorch", "tensorflow": "TensorFlow"}
DEFAULT = "pytorch"
STORAGE_KEY = "sphinx-design-tab-id-framework"  # sphinx-design's prefix + our sync group
CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
SCREENSHOTS = ROOT / "test-output"
TIMEOUT = 60  # seconds; the machine may be busy with a training run


# --- what the page should contain, read from the merged notebook itself ----------------

def notebook_groups(path: Path = ROOT / f"{CHAPTER}.ipynb") -> list[list[tuple[str, object]]]:
    """Runs of consecutive framework cells (framework, cell), as the page should tab them."""
    groups, run = [], []
    for cell in nbformat.read(path, as_version=4).cells:
        tags = cell.metadata.get("tags", [])
        framework = next((t for t in tags if t in FRAMEWORKS), None)
        if run and (framework is None or framework in [fw for fw, _ in run]):
            groups.append(run)
            run = []
        if framework:
            run.append((framework, cell))
    return groups + ([run] if run else [])


def has_png(cell) -> bool:
    return any("image/png" in out.get("data", {}) for out in cell.get("outputs", []))


def colab_url(framework: str) -> str:
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    owner_repo = config["repository"]["url"].removeprefix("https://github.com/").strip("/")
    return (f"https://colab.research.google.com/github/{owner_repo}/blob/"
            f"{config['repository']['branch']}/chapters/{framework}/batch_norm.ipynb")


# --- (a) the page is in sync, (b) the strict build ---------------------------------------

def test_merged_page_in_sync_with_source_and_notebooks():
    result = subprocess.run([sys.executable, "-m", "book", "check"], cwd=ROOT,
                            capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="session")
def build(tmp_path_factory):
    """One strict build of the book per session: (completed process, html folder)."""
    out = tmp_path_factory.mktemp("book")
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    result = subprocess.run(
        [str(jupyter_book), "build", str(ROOT), "--path-output", str(out), "-W", "-n",
         "--keep-going"], cwd=ROOT, capture_output=True, text=True, timeout=900, check=False)
    return result, out / "_build" / "html"


def test_strict_build_has_no_warnings(build):
    result, html = build
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-5000:]
    assert "WARNING" not in log, "\n".join(l for l in log.splitlines() if "WARNING" in l)
    assert (html / f"{CHAPTER}.html").is_file()
    assert (html / "_static" / "mathjax" / "tex-mml-chtml.js").is_file(), "MathJax not served"


# --- (c) the built site in a real browser ------------------------------------------------

@pytest.fixture(scope="session")
def site(build):
    """Base URL of the built site, served on a random loopback port."""
    result, html = build
    if result.returncode != 0:
        pytest.fail("the book did not build; see test_strict_build_has_no_warnings")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(html)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    if not (CHROMIUM.is_file() and CHROMEDRIVER.is_file()):
        message = "Debian's chromium and chromium-driver are needed (make browser)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-quic", "--window-size=1280,1400",
                f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"]:
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # An explicit driver path: Selenium Manager is not run, so nothing is downloaded.
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(TIMEOUT)
    driver.set_script_timeout(TIMEOUT)
    yield driver
    driver.quit()


def load(driver, url: str) -> None:
    """Open ``url`` and wait until MathJax has typeset the page (if it has MathJax)."""
    driver.get(url)
    outcome = driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        if (!window.MathJax || !window.MathJax.startup) { done('no MathJax'); return; }
        MathJax.startup.promise.then(() => done('ok'), (err) => done('error: ' + err));
    """)
    assert outcome in ("ok", "no MathJax"), outcome


def fresh(driver, url: str) -> None:
    """Open ``url`` with no stored framework choice."""
    driver.get(url)
    driver.execute_script("window.localStorage.clear();")
    load(driver, url)


def severe_console_messages(driver) -> list[str]:
    return [entry["message"] for entry in driver.get_log("browser")
            if entry["level"] == "SEVERE"]


def tab_sets(driver):
    return driver.find_elements("css selector", ".sd-tab-set.framework-tabs")


def selected(tab_set) -> str:
    """Sync id of the tab-set's checked tab."""
    checked = tab_set.find_elements("css selector", "input:checked")
    assert len(checked) == 1
    label = tab_set.find_element("css selector", f"label[for='{checked[0].get_attribute('id')}']")
    return label.get_attribute("data-sync-id")


def selections(driver) -> set[str]:
    return {selected(tab_set) for tab_set in tab_sets(driver)}


def visible_code(tab_set) -> str:
    panels = [p for p in tab_set.find_elements("css selector", ":scope > .sd-tab-content")
              if p.is_displayed()]
    assert len(panels) == 1
    return panels[0].find_element("css selector", ".cell_input").get_attribute("textContent")


def test_pages_load_without_console_errors(site, browser):
    severe_console_messages(browser)  # drop anything logged earlier
    for page in ["index.html", "chapters/index.html", f"{CHAPTER}.html", f"{EXERCISES}.html"]:
        fresh(browser, site + page)
        assert severe_console_messages(browser) == [], page


def test_math_is_rendered_and_equations_numbered(site, browser):
    fresh(browser, site + f"{CHAPTER}.html")
    assert browser.find_elements("css selector", "mjx-container")
    # every math element typeset, and no TeX errors (MathJax renders those as mjx-merror)
    assert not browser.find_elements("css selector", "mjx-merror")
    raw = browser.execute_script("""
        return [...document.querySelectorAll('.math')]
            .filter(el => !el.querySelector('mjx-container')).length;""")
    assert raw == 0
    numbers = [e.text for e in browser.find_elements("css selector", "div.math .eqno")]
    assert numbers[:3] == ["(1)", "(2)", "(3)"], numbers
    # {eq} references resolve to numbered, existing equations
    refs = browser.find_elements("css selector", "a.reference[href^='#equation-']")
    assert len(refs) >= 5
    for ref in refs:
        target = ref.get_attribute("href").split("#", 1)[1]
        equation = browser.find_element("id", target)
        number = equation.find_element("css selector", ".eqno").get_attribute("textContent")
        assert ref.get_attribute("textContent") == number.rstrip("#"), target


def test_citations_and_bibliography(site, browser):
    fresh(browser, site + f"{CHAPTER}.html")
    citations = browser.find_elements("css selector", ".bibtex-citation a")
    assert len(citations) >= 10
    bibliography = browser.find_elements("css selector", "div.citation")
    assert len(bibliography) >= 10
    for link in citations:
        assert browser.find_elements("id", link.get_attribute("href").split("#", 1)[1])


def test_every_tab_group_has_one_tab_per_framework_with_code(site, browser):
    fresh(browser, site + f"{CHAPTER}.html")
    expected = [[fw for fw, _ in group] for group in notebook_groups()]
    assert len(expected) > 5
    found = tab_sets(browser)
    assert len(found) == len(expected)
    for tab_set, frameworks in zip(found, expected):
        labels = tab_set.find_elements("css selector", ":scope > label.sd-tab-label")
        assert [label.get_attribute("data-sync-id") for label in labels] == frameworks
        assert [label.text for label in labels] == [LABELS[fw] for fw in frameworks]
        assert {label.get_attribute("data-sync-group") for label in labels} == {"framework"}
        panels = tab_set.find_elements("css selector", ":scope > .sd-tab-content")
        assert len(panels) == len(frameworks)
        for panel in panels:
            assert panel.find_elements("css selector", ".cell .cell_input pre")
    assert selections(browser) == {DEFAULT}
    # no framework cell was left outside a tab-set
    loose = browser.execute_script("""
        return [...document.querySelectorAll('.cell.tag_mxnet, .cell.tag_pytorch, .cell.tag_tensorflow')]
            .filter(el => !el.closest('.sd-tab-set')).length;""")
    assert loose == 0


def test_choosing_a_framework_switches_all_groups_and_persists(site, browser):
    chapter = site + f"{CHAPTER}.html"
    fresh(browser, chapter)
    groups = tab_sets(browser)
    label = groups[3].find_element("css selector", "label[data-sync-id='tensorflow']")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", label)
    label.click()
    assert selections(browser) == {"tensorflow"}
    assert "import tensorflow" in visible_code(groups[0])
    assert browser.execute_script(f"return localStorage.getItem('{STORAGE_KEY}');") == "tensorflow"

    load(browser, chapter)  # a reload keeps the choice
    assert selections(browser) == {"tensorflow"}
    load(browser, site + "chapters/index.html")  # and so does another page
    assert browser.execute_script(f"return localStorage.getItem('{STORAGE_KEY}');") == "tensorflow"
    load(browser, chapter)
    assert selections(browser) == {"tensorflow"}

    load(browser, chapter + "?framework=mxnet")  # the URL query selects, and is remembered
    assert selections(browser) == {"mxnet"}
    assert "from mxnet" in visible_code(tab_sets(browser)[0])
    load(browser, chapter)
    assert selections(browser) == {"mxnet"}
    assert severe_console_messages(browser) == []


def test_tabs_work_per_group_without_javascript(site, browser):
    chapter = site + f"{CHAPTER}.html"
    fresh(browser, chapter)  # clears the stored choice
    browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
    try:
        browser.get(chapter)
        assert selections(browser) == {DEFAULT}
        groups = tab_sets(browser)
        label = groups[0].find_element("css selector", "label[data-sync-id='mxnet']")
        label.click()
        assert selected(groups[0]) == "mxnet"  # the CSS radio tabs work...
        assert selected(groups[1]) == DEFAULT  # ...one group at a time
        assert "from mxnet" in visible_code(groups[0])
    finally:
        browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": False})


def test_training_curves_are_shown_in_every_framework(site, browser):
    chapter = site + f"{CHAPTER}.html"
    training = {fw: [cell for group in notebook_groups() for f, cell in group
                     if f == fw and ".fit(" in cell.source] for fw in FRAMEWORKS}
    for framework, cells in training.items():
        assert cells, f"no training cell for {framework}"
        missing = [cell.source.splitlines()[0] for cell in cells if not has_png(cell)]
        assert not missing, (f"{framework}: training cells without a curve in "
                             f"{CHAPTER}.ipynb (execute chapters/{framework}/batch_norm.ipynb "
                             f"and merge): {missing}")
    pngs = {fw: sum(has_png(cell) for group in notebook_groups() for f, cell in group if f == fw)
            for fw in FRAMEWORKS}
    for framework in FRAMEWORKS:
        load(browser, f"{chapter}?framework={framework}")
        images = browser.execute_script("""
            return [...document.querySelectorAll('.sd-tab-content .cell_output img')]
                .filter(img => img.offsetParent !== null)
                .map(img => [img.complete, img.naturalWidth, img.naturalHeight,
                             img.closest('.sd-tab-content').previousElementSibling
                                .getAttribute('data-sync-id')]);""")
        assert len(images) == pngs[framework], images
        for complete, width, height, owner in images:
            assert complete and width > 0 and height > 0
            assert owner == framework
        # the training cells also show their printed summary line
        outputs = [panel.text for panel in browser.find_elements(
            "css selector", ".sd-tab-content .cell_output") if panel.is_displayed()]
        assert outputs and all(text.strip() for text in outputs)


def test_printed_outputs_fit_the_page_width(site, browser):
    """No printed output hides its end behind a horizontal scroll bar (_static/outputs.css)."""
    for page in (CHAPTER, EXERCISES):
        for framework in FRAMEWORKS:
            load(browser, f"{site}{page}.html?framework={framework}")
            wide = browser.execute_script("""
                return [...document.querySelectorAll('.cell_output pre')]
                    .filter(pre => pre.offsetParent !== null
                                   && pre.scrollWidth > pre.clientWidth + 1)
                    .map(pre => pre.textContent.slice(0, 80));""")
            assert wide == [], (page, framework, wide)


def test_colab_and_download_links(site, browser):
    fresh(browser, site + f"{CHAPTER}.html")
    block = browser.find_element("css selector", ".framework-launch")
    assert block.is_displayed() and "Run this chapter" in block.text
    for framework in FRAMEWORKS:
        colab = block.find_element("css selector", f"a.colab-{framework}")
        assert colab.text == "Open in Colab"
        assert colab.get_attribute("href") == colab_url(framework)
        download = block.find_element("css selector", f"a.notebook-download-{framework}")
        with urllib.request.urlopen(download.get_attribute("href"), timeout=30) as response:
            notebook = json.loads(response.read())
        assert notebook["metadata"]["d2l_bn"]["framework"] == framework


class _Ids(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        self.ids.update(value for name, value in attrs if name in ("id", "name") and value)


@functools.cache
def _fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            body = response.read()
            text = body.decode("utf-8", "replace") if url.endswith(".html") else ""
            return response.status, text
    except urllib.error.HTTPError as err:
        return err.code, ""


def test_internal_links_and_anchors_resolve(site, browser):
    checked = 0
    for page in ["chapters/index.html", f"{CHAPTER}.html", f"{EXERCISES}.html"]:
        load(browser, site + page)
        hrefs = browser.execute_script(
            "return [...document.querySelectorAll('a[href]')].map(a => a.href);")
        for href in hrefs:
            if not href.startswith(site):
                continue  # external (d2l.ai, Colab, GitHub, DOIs): plain links, not checked
            url, _, fragment = href.partition("#")
            status, text = _fetch(url)
            assert status == 200, f"{page}: {href} -> {status}"
            if fragment:
                parser = _Ids()
                parser.feed(text)
                assert urllib.parse.unquote(fragment) in parser.ids, f"{page}: {href}"
            checked += 1
    assert checked > 50


def test_screenshots_of_each_framework(site, browser):
    SCREENSHOTS.mkdir(exist_ok=True)
    chapter = site + f"{CHAPTER}.html"
    for framework in FRAMEWORKS:
        load(browser, f"{chapter}?framework={framework}")
        browser.execute_script("window.scrollTo(0, 0);")
        assert browser.save_screenshot(str(SCREENSHOTS / f"chapter-{framework}-top.png"))
        curves = [img for img in browser.find_elements("css selector", ".cell_output img")
                  if img.is_displayed()]
        if curves:  # (their presence is test_training_curves_are_shown_in_every_framework's)
            tabs = curves[0].find_element("xpath", "./ancestor::div[contains(@class, 'sd-tab-set')]")
            browser.execute_script("arguments[0].scrollIntoView({block: 'start'});", tabs)
            assert browser.save_screenshot(
                str(SCREENSHOTS / f"chapter-{framework}-training.png"))
    load(browser, site + f"{CHAPTER}.html?framework={DEFAULT}")  # leave the default behind


# --- (d) the exercises page: tabs, solutions behind toggles, the sweep figure ----------

SWEEP_PLOT = "show(plot_lr_sweep(sweeps"  # the cell that draws the learning-rate figure
HEADING = re.compile(r"^## (Exercise \d+):", re.MULTILINE)


def exercise_sections() -> dict[str, tuple[str, list]]:
    """The merged exercises notebook by "## Exercise N" section: (its prose, its code cells)."""
    sections: dict[str, tuple[list[str], list]] = {}
    current = None
    for cell in nbformat.read(ROOT / f"{EXERCISES}.ipynb", as_version=4).cells:
        if cell.cell_type == "code":
            if current:
                sections[current][1].append(cell)
            continue
        # a markdown cell may end one section (e.g. its explanation) and start the next
        parts = HEADING.split(cell.source)
        if current:
            sections[current][0].append(parts[0])
        for name, text in zip(parts[1::2], parts[2::2]):
            current = name
            sections[current] = ([text], [])
    return {name: ("\n".join(prose), cells) for name, (prose, cells) in sections.items()}


def test_exercises_notebook_has_solutions_explanations_and_sweep_figure():
    sections = exercise_sections()
    assert list(sections) == [f"Exercise {n}" for n in range(1, 9)]
    for name, (prose, cells) in list(sections.items())[:7]:  # 8 is a note, without code
        hidden = [c for c in cells if "hide-cell" in c.metadata.get("tags", [])]
        for framework in FRAMEWORKS:
            mine = [c for c in hidden if framework in c.metadata["tags"]]
            assert mine, f"{name}: no hidden solution cell for {framework}"
        assert prose.count("{dropdown} Explanation") == 1, f"{name}: one Explanation drop-down"
    sweep = [c for c in sections["Exercise 2"][1] if SWEEP_PLOT in c.source]
    assert sorted(t for c in sweep for t in c.metadata["tags"] if t in FRAMEWORKS) == sorted(
        FRAMEWORKS)
    for cell in sweep:
        assert has_png(cell), f"no sweep figure in {cell.metadata['tags']}: execute and merge"


def test_exercises_page_has_tabs_and_hides_solutions(build):
    from bs4 import BeautifulSoup

    result, html = build
    assert result.returncode == 0, "the book did not build"
    page = BeautifulSoup((html / f"{EXERCISES}.html").read_text(), "html.parser")
    notebook = ROOT / f"{EXERCISES}.ipynb"
    groups = notebook_groups(notebook)
    tab_sets = page.select("div.sd-tab-set.framework-tabs")
    assert len(groups) > 10 and len(tab_sets) == len(groups)
    for tab_set, group in zip(tab_sets, groups):
        labels = tab_set.find_all("label", class_="sd-tab-label", recursive=False)
        assert [label["data-sync-id"] for label in labels] == [fw for fw, _ in group]
    for cell in page.select("div.cell.tag_mxnet, div.cell.tag_pytorch, div.cell.tag_tensorflow"):
        assert cell.find_parent("div", class_="sd-tab-set"), "a framework cell outside the tabs"
    # every solution cell: code and output inside a closed <details> toggle
    n_hidden = sum("hide-cell" in c.metadata.get("tags", [])
                   for c in nbformat.read(notebook, as_version=4).cells)
    hidden = page.select("div.cell.tag_hide-cell")
    assert n_hidden > 20 and len(hidden) == n_hidden
    for cell in hidden:
        toggle = cell.find("details", recursive=False)
        assert toggle is not None and "hide" in toggle["class"] and not toggle.has_attr("open")
        assert cell.select_one("details > summary") and toggle.select_one(".cell_input")
        assert not cell.find(class_="cell_output", recursive=False), "output outside the toggle"
    explanations = page.select("details.sd-dropdown")
    assert [d.summary.get_text(strip=True) for d in explanations] == ["Explanation"] * 7
    # exercise 2's figure, in every framework's tab, behind the toggle
    sweeps = [cell for cell in hidden if SWEEP_PLOT in cell.get_text()]
    assert {c for cell in sweeps for c in cell["class"]} >= {f"tag_{fw}" for fw in FRAMEWORKS}
    for cell in sweeps:
        assert cell.select_one("details .cell_output img"), cell["class"]


def test_exercise_solution_opens_to_show_the_sweep_figure(site, browser):
    from selenium.webdriver.support.ui import WebDriverWait

    for framework in FRAMEWORKS:
        load(browser, f"{site}{EXERCISES}.html?framework={framework}")
        assert selections(browser) == {framework}
        cell = next(c for c in browser.find_elements(
            "css selector", f".cell.tag_hide-cell.tag_{framework}")
            if SWEEP_PLOT in c.get_attribute("textContent"))
        image = cell.find_element("css selector", ".cell_output img")
        assert not image.is_displayed()  # collapsed until the reader asks
        summary = cell.find_element("css selector", "summary")
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", summary)
        summary.click()
        WebDriverWait(browser, TIMEOUT).until(lambda _, img=image: img.is_displayed())
        WebDriverWait(browser, TIMEOUT).until(lambda driver, img=image: driver.execute_script(
            "return arguments[0].complete && arguments[0].naturalWidth > 0;", img))
    load(browser, f"{site}{CHAPTER}.html?framework={DEFAULT}")  # leave the default behind

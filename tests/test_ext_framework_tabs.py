"""_ext/framework_tabs.py on a synthetic page: tabs, outputs, launch links.

The extension leans on internals of MyST-NB (code cells are containers with
``nb_element="cell_code"`` and a ``tag_<tag>`` class per cell tag) and of sphinx-design
(the node tree its tab-set directives build, which its HTML post-transform expects).
An upgrade that changes either should fail here, in a few seconds, rather than only in
the full site build. One small project is built once in a temporary folder with the
site's own theme (sphinx-book-theme) and these settings; the tests read its doctree and
HTML.
"""

from __future__ import annotations

from pathlib import Path

import framework_tabs
import nbformat
import pytest
from bs4 import BeautifulSoup
from docutils import nodes
from sphinx_project import build_html

from d2l_bn import LABELS

ROOT = Path(__file__).resolve().parents[1]

GROUP = "fw-test"  # a sync group other than the built-in default, to see the setting used
DEFAULT = "pytorch"
OWNER, REPO, BRANCH, BOOK_PATH = "someone", "some-course", "dev", "book"
DOC = "chapters/demo"  # the merged page, with per-framework notebooks next to it
PLAIN = "chapters/plain"  # a framework-tagged page without per-framework notebooks

# The synthetic merged page, cell by cell: (tags, source, output text or None).
CELLS = [
    ([], "# Demo chapter\n\nShared prose before any code.", None),
    (["mxnet"], "print('mx 1')", "out mxnet 1"),
    (["pytorch"], "print('pt 1')", "out pytorch 1"),
    (["tensorflow"], "print('tf 1')", "out tensorflow 1"),
    ([], "Shared prose between two groups.", None),
    # Out of order and only two frameworks: the tab-set orders them and has two tabs.
    (["tensorflow"], "print('tf 2')", "out tensorflow 2"),
    (["pytorch", "hide-input"], "print('pt 2')", "out pytorch 2"),
    # Not tagged with a framework: stays a plain cell, and ends the run above.
    (["hide-input"], "print('shared')", "out shared"),
    # No cell for the default framework: the first tab is selected.
    (["mxnet"], "print('mx 3')", "out mxnet 3"),
    (["tensorflow"], "print('tf 3')", "out tensorflow 3"),
]
GROUPS = [["mxnet", "pytorch", "tensorflow"], ["pytorch", "tensorflow"], ["mxnet", "tensorflow"]]
SELECTED = ["pytorch", "pytorch", "mxnet"]


def notebook(cells) -> nbformat.NotebookNode:
    """A notebook of markdown cells (no output) and code cells with one stream output."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    for tags, source, output in cells:
        if output is None:
            cell = nbformat.v4.new_markdown_cell(source)
        else:
            stream = nbformat.v4.new_output("stream", name="stdout", text=output + "\n")
            cell = nbformat.v4.new_code_cell(source, outputs=[stream], execution_count=1)
        cell.metadata["tags"] = list(tags)
        nb.cells.append(cell)
    return nb


CONF = f"""
extensions = ["myst_nb", "sphinx_design", "framework_tabs"]
html_theme = "sphinx_book_theme"
html_theme_options = {{
    "repository_url": "https://github.com/{OWNER}/{REPO}",
    "repository_branch": "{BRANCH}",
    "path_to_docs": "{BOOK_PATH}",
}}
root_doc = "index"
nb_execution_mode = "off"
nitpicky = True
exclude_patterns = {["_build", "chapters/single_file", *(f"chapters/{fw}" for fw in LABELS)]!r}
framework_tabs_default = "{DEFAULT}"
framework_tabs_sync_group = "{GROUP}"
"""


def write_project(src: Path, conf: str = CONF) -> None:
    (src / "conf.py").write_text(conf)
    (src / "index.md").write_text(f"# Index\n\n```{{toctree}}\n{DOC}\n{PLAIN}\n```\n")
    (src / "chapters").mkdir()
    nbformat.write(notebook(CELLS), src / f"{DOC}.ipynb")
    nbformat.write(notebook(CELLS[:4]), src / f"{PLAIN}.ipynb")
    for framework in LABELS:
        (src / "chapters" / framework).mkdir()
        nbformat.write(notebook([([], f"# {framework} only", None)]),
                       src / "chapters" / framework / "demo.ipynb")
    for framework in SINGLE_FILE:  # single-file editions, for some frameworks only
        nbformat.write(notebook([([], f"# {framework}, helpers embedded", None)]),
                       single_file(src, framework))


# The frameworks with a single-file edition in the synthetic project.
SINGLE_FILE = ["mxnet", "pytorch", "jax"]


def single_file(src: Path, framework: str) -> Path:
    path = src / "chapters" / "single_file" / framework / f"demo-{framework}-single.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The built project: (app, {docname: doctree}, {docname: BeautifulSoup of its page})."""
    src = tmp_path_factory.mktemp("tabs")
    write_project(src)
    app = build_html(src)
    docs = [DOC, PLAIN]
    doctrees = {doc: app.env.get_doctree(doc) for doc in docs}
    pages = {doc: BeautifulSoup((app.outdir / f"{doc}.html").read_text(), "html.parser")
             for doc in docs}
    return app, doctrees, pages


# --- the pure helpers ----------------------------------------------------------------

def code_cell(*classes: str) -> nodes.container:
    return nodes.container(nb_element="cell_code", classes=["cell", *classes])


@pytest.mark.parametrize(("node", "expected"), [
    (code_cell("tag_pytorch"), "pytorch"),
    (code_cell("tag_hide-input", "tag_tensorflow"), "tensorflow"),
    (code_cell("tag_hide-input"), None),  # a tag, but not a framework
    (code_cell("tag_caffe"), None),  # not a configured framework
    (code_cell("pytorch"), None),  # MyST-NB's prefix is required
    (nodes.container(nb_element="cell_markdown", classes=["tag_pytorch"]), None),
    (nodes.paragraph(classes=["tag_pytorch"]), None),
])
def test_cell_framework(node, expected):
    assert framework_tabs.cell_framework(node, LABELS) == expected


def test_framework_runs_end_at_other_nodes_and_at_a_repeated_framework():
    parent = nodes.section()
    cells = [code_cell("tag_mxnet"), code_cell("tag_pytorch"), nodes.paragraph(),
             code_cell("tag_tensorflow"), code_cell("tag_tensorflow"), code_cell(),
             code_cell("tag_pytorch")]
    parent.extend(cells)
    runs = [[(fw, parent.index(cell)) for fw, cell in run]
            for run in framework_tabs.framework_runs(parent, LABELS)]
    assert runs == [[("mxnet", 0), ("pytorch", 1)], [("tensorflow", 3)], [("tensorflow", 4)],
                    [("pytorch", 6)]]


@pytest.mark.parametrize(("url", "expected"), [
    ("https://github.com/owner/repo", ("owner", "repo")),
    ("https://github.com/owner/repo/", ("owner", "repo")),
    ("https://www.github.com/owner/repo.git", ("owner", "repo")),
    ("http://github.com/owner/re.po", ("owner", "re.po")),
    ("https://gitlab.com/owner/repo", None),
    ("https://github.com/owner", None),
    ("https://github.com/owner/repo/tree/main", None),
    ("", None),
    (None, None),
])
def test_github_repository(url, expected):
    assert framework_tabs.github_repository(url) == expected


# --- the built page: doctree ----------------------------------------------------------

def tab_sets(doctree) -> list[nodes.container]:
    return [node for node in doctree.findall(nodes.container)
            if node.get("design_component") == "tab-set"]


def parents(node: nodes.Node):
    while node.parent is not None:
        node = node.parent
        yield node


def test_build_is_clean(site):
    app, _, _ = site
    assert app.statuscode == 0
    assert app.warning.getvalue() == ""  # the site builds with -W: any warning fails it


def test_labels_default_to_the_framework_registry(site):
    app, _, _ = site  # conf.py leaves framework_tabs_labels unset
    assert list(app.config.framework_tabs_labels.items()) == list(LABELS.items())
    assert list(LABELS) == ["mxnet", "pytorch", "tensorflow", "jax"]


def test_consecutive_framework_cells_become_one_tab_set_each(site):
    _, doctrees, _ = site
    sets = tab_sets(doctrees[DOC])
    assert len(sets) == len(GROUPS)
    for tabs, group, selected in zip(sets, GROUPS, SELECTED):
        assert "framework-tabs" in tabs["classes"]
        items = tabs.children
        assert all(item.get("design_component") == "tab-item" for item in items)
        labels = [item[0] for item in items]  # tab-item > [rubric label, tab-content]
        assert [label["sync_id"] for label in labels] == group  # the configured order
        assert [label.astext() for label in labels] == [LABELS[fw] for fw in group]
        assert {label["sync_group"] for label in labels} == {GROUP}
        assert [fw for fw, item in zip(group, items) if item["selected"]] == [selected]
        for framework, item in zip(group, items):
            content = item[1]
            assert content.get("design_component") == "tab-content"
            (cell,) = content.children  # the whole cell, source and outputs
            assert framework_tabs.cell_framework(cell, LABELS) == framework


def test_untagged_cell_is_not_in_tabs(site):
    _, doctrees, _ = site
    cells = [node for node in doctrees[DOC].findall(nodes.container)
             if node.get("nb_element") == "cell_code"]
    assert len(cells) == sum(1 for _, _, output in CELLS if output is not None)
    outside = [cell for cell in cells
               if not any(a.get("design_component") == "tab-set" for a in parents(cell))]
    assert [cell.astext().splitlines()[0] for cell in outside] == ["print('shared')"]


# --- the built page: HTML --------------------------------------------------------------

def test_html_tabs_are_synced_radio_tabs_with_their_own_outputs(site):
    _, _, pages = site
    html_sets = pages[DOC].select("div.sd-tab-set.framework-tabs")
    assert len(html_sets) == len(GROUPS)
    for n, (tabs, group, selected) in enumerate(zip(html_sets, GROUPS, SELECTED), start=1):
        inputs = tabs.find_all("input", recursive=False)
        labels = tabs.find_all("label", recursive=False)
        panels = tabs.find_all("div", class_="sd-tab-content", recursive=False)
        assert [label["data-sync-id"] for label in labels] == group
        assert {label["data-sync-group"] for label in labels} == {GROUP}
        assert [label.get_text(strip=True) for label in labels] == [LABELS[fw] for fw in group]
        assert [label["for"] for label in labels] == [i["id"] for i in inputs]
        assert [i.has_attr("checked") for i in inputs] == [fw == selected for fw in group]
        for framework, panel in zip(group, panels):  # each panel: its cell's own output
            outputs = panel.select(".cell_output")
            assert [o.get_text(strip=True) for o in outputs] == [f"out {framework} {n}"]
    shared = pages[DOC].find(string=lambda text: text and "out shared" in text)
    assert shared is not None and shared.find_parent(class_="sd-tab-set") is None


def test_design_tabs_script_and_css_are_loaded(site):
    _, _, pages = site
    scripts = [s.get("src", "") for s in pages[DOC].find_all("script")]
    styles = [s.get("href", "") for s in pages[DOC].find_all("link", rel="stylesheet")]
    assert any("design-tabs.js" in src for src in scripts)
    assert any("sphinx-design" in href for href in styles)


# --- the "Run this chapter" block ----------------------------------------------------

def test_launch_block_follows_the_title(site):
    _, doctrees, pages = site
    section = doctrees[DOC].next_node(nodes.section)
    assert isinstance(section[0], nodes.title) and section[0].astext() == "Demo chapter"
    block = section[1]
    assert isinstance(block, nodes.admonition) and "framework-launch" in block["classes"]
    html = pages[DOC].select("div.framework-launch")
    assert len(html) == 1 and html[0].find_previous("h1").get_text().startswith("Demo chapter")


def test_launch_block_links_colab_and_downloads_per_framework(site):
    """Colab opens the single-file editions; MXNet, which Colab cannot run, says so."""
    app, _, pages = site
    block = pages[DOC].select_one("div.framework-launch")
    colab = [a["href"] for a in block.select("a.colab-link")]
    in_colab = [fw for fw in SINGLE_FILE if fw not in framework_tabs.NOT_IN_COLAB]
    assert colab == [f"https://colab.research.google.com/github/{OWNER}/{REPO}/blob/{BRANCH}/"
                     f"{BOOK_PATH}/chapters/single_file/{fw}/demo-{fw}-single.ipynb"
                     for fw in in_colab]
    (note,) = block.select(".no-colab")
    assert "MXNet" in note.get_text() and "numpy < 2" in note.get_text()
    downloads = block.select("a.notebook-download")
    assert [a.get_text(strip=True) for a in downloads] == [f"{LABELS[fw]} notebook"
                                                           for fw in LABELS]
    page_dir = (app.outdir / DOC).parent
    for framework, link in zip(LABELS, downloads):
        assert f"notebook-download-{framework}" in link["class"]
        assert "_downloads/" in link["href"]
        copied = (page_dir / link["href"]).resolve()
        source = app.srcdir / "chapters" / framework / "demo.ipynb"
        assert copied.read_bytes() == source.read_bytes()


def test_single_file_editions_are_offered_where_they_exist(site):
    app, _, pages = site
    links = pages[DOC].select("div.framework-launch a.notebook-download-single")
    assert [a.get_text(strip=True) for a in links] == \
        ["single file, no course package needed"] * len(SINGLE_FILE)
    for framework, link in zip(SINGLE_FILE, links):
        assert f"notebook-download-single-{framework}" in link["class"]
        copied = ((app.outdir / DOC).parent / link["href"]).resolve()
        assert copied.name == f"demo-{framework}-single.ipynb"
        assert copied.read_bytes() == single_file(app.srcdir, framework).read_bytes()


def test_download_names_carry_the_language_but_english():
    """English and Portuguese downloads never share a file name."""
    config = type("Config", (), {"language": "pt_BR"})
    assert framework_tabs.download_name(DOC, "jax", suffix=framework_tabs.language_suffix(
        config)) == "_downloads/notebooks/chapters/demo-jax-pt_BR.ipynb"
    config.language = "en"
    assert framework_tabs.download_name(DOC, "jax", "-single", framework_tabs.language_suffix(
        config)) == "_downloads/notebooks/chapters/demo-jax-single.ipynb"


def test_header_download_menu_offers_notebooks_and_no_pdf(site):
    app, _, pages = site
    menu = pages[DOC].select(".dropdown-download-buttons a")
    assert [a.get_text(strip=True) for a in menu] == [f"{LABELS[fw]} notebook" for fw in LABELS]
    assert not pages[DOC].select(".btn-download-pdf-button, [onclick*='print']")


def test_no_launch_block_without_per_framework_notebooks(site):
    _, doctrees, pages = site
    assert not list(doctrees[PLAIN].findall(nodes.admonition))
    assert not pages[PLAIN].select(".framework-launch, a.colab-link")
    assert len(tab_sets(doctrees[PLAIN])) == 1  # its cells are tabbed all the same


def test_without_a_github_repository_colab_links_are_dropped_with_a_warning(tmp_path):
    conf = CONF.replace("https://github.com/", "https://gitlab.com/")  # Colab reads GitHub only
    write_project(tmp_path, conf)
    app = build_html(tmp_path)
    assert "no GitHub repository url" in app.warning.getvalue()
    block = BeautifulSoup((app.outdir / f"{DOC}.html").read_text(), "html.parser")
    block = block.select_one("div.framework-launch")
    assert not block.select("a.colab-link")
    assert len(block.select("a.notebook-download")) == len(LABELS)


def test_tab_order_labels_and_launch_links_follow_the_configured_frameworks(tmp_path):
    labels = {"tensorflow": "TF", "pytorch": "Torch"}  # reordered, relabelled, no MXNet
    write_project(tmp_path, CONF + f"framework_tabs_labels = {labels!r}\n")
    app = build_html(tmp_path)
    assert app.warning.getvalue() == ""
    page = BeautifulSoup((app.outdir / f"{DOC}.html").read_text(), "html.parser")
    first = page.select_one("div.sd-tab-set.framework-tabs")
    tabs = [(label["data-sync-id"], label.get_text(strip=True)) for label in first("label")]
    assert tabs == list(labels.items())
    mxnet = page.find(string=lambda text: text and "out mxnet 1" in text)
    assert mxnet.find_parent(class_="sd-tab-set") is None  # not a configured framework
    launch = page.select_one("div.framework-launch")
    assert [a["href"].rsplit("/", 2)[1] for a in launch.select("a.colab-link")] == \
        [fw for fw in labels if fw in SINGLE_FILE]

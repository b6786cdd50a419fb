"""Framework tabs and launch links for the merged chapter pages (a local Sphinx extension).

A merged page (``chapters/<name>.ipynb``, written by ``python -m book merge``)
holds, for every framework-specific step, one code cell per framework, tagged with the
framework's name and carrying that framework's real outputs. MyST-NB drops code cells
nested in a ``{tab-set}`` directive (MyST-NB issue 723), so the tabs are made here, after
parsing: a transform groups consecutive code-cell containers whose classes include
``tag_<framework>`` into a sphinx-design tab-set, one tab-item per framework, every item
with the same sync group and the framework name as sync key. sphinx-design's own
post-transform then turns that into its HTML (radio inputs, labels, panels), so its CSS
(tabs work without JavaScript) and its ``design-tabs.js`` apply: choosing a framework
switches every tab-set of the page, the choice is kept in ``localStorage`` (so it holds
on reload and on other pages), and ``?<sync group>=<framework>`` in the URL selects it.

The same transform puts a "Run this chapter" block under the page title: per framework,
an "Open in Colab" link to that framework's single-file edition on GitHub (committed by
``python -m book.single_file`` under ``framework_tabs_single_file_dir``; it carries the
course package, so it runs in Colab as it is; the URL is built when the page is written,
from the ``repository`` settings of ``_config.yml``, which Jupyter Book passes on as
``html_theme_options``), or, for a framework Colab cannot run (``NOT_IN_COLAB``: MXNet
needs numpy < 2), a note saying why; then a download link, "PyTorch notebook", to a copy
of the notebook named after its framework and language (``_downloads/notebooks/chapters/
batch_norm-pytorch.ipynb``, ``batch_norm-pytorch-pt_BR.ipynb`` on the Portuguese site:
files all called ``batch_norm.ipynb`` would overwrite each other in a downloads folder),
and one to its single-file edition ("single file, no course package needed"). The
theme's header menu "Download this page" offers the notebooks instead of the page's own
source, which for a merged page holds every step four times, and no "print to PDF"
(a browser print of one framework's tabs, not a document to read).

``framework-tabs.js`` (in ``static/`` next to this file) adds two things to
sphinx-design's tabs: ``?framework=TensorFlow`` selects a framework whatever the case
(and an unknown name is dropped from the URL, so it is never stored), and choosing a tab
keeps the clicked label where it was on the screen while the tab-sets above it change
height.

Configuration (``sphinx: config:`` in ``_config.yml``):

``framework_tabs_labels``
    framework name (cell tag) -> tab label; the tab order is this order. Default: the
    project's framework registry, ``d2l_bn.LABELS``.
``framework_tabs_default``
    the framework whose tab is selected in the HTML (before JavaScript, or without it).
``framework_tabs_sync_group``
    the sphinx-design sync group, and so the URL query key.
"""

from __future__ import annotations

import posixpath
import re
import shutil
from pathlib import Path

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.locale import get_translation
from sphinx.transforms import SphinxTransform
from sphinx.util import logging
from sphinx.util.osutil import relative_uri
from sphinx_design.config import get_sd_config
from sphinx_design.shared import create_component

from d2l_bn import LABELS

logger = logging.getLogger(__name__)
_ = get_translation("site")  # the site catalog, registered by _ext/translation.py

__version__ = "0.1.0"

COLAB = "https://colab.research.google.com/github"
DOWNLOADS = "_downloads/notebooks"  # where the per-framework notebooks are copied in the site
STATIC = Path(__file__).parent / "static"


def framework_notebooks(env, docname: str) -> dict[str, Path]:
    """framework -> notebook, for a merged page: ``chapters/<fw>/<name>.ipynb`` next to it,
    or, where ``framework_tabs_notebook_dir`` is set (the Portuguese site:
    ``chapters/pt_BR``), ``<that folder>/<fw>/<name>.ipynb``."""
    source = Path(env.doc2path(docname))
    if source.suffix != ".ipynb":
        return {}
    folder = env.config.framework_tabs_notebook_dir
    folder = Path(env.srcdir) / folder if folder else source.parent
    notebooks = {fw: folder / fw / f"{source.stem}.ipynb"
                 for fw in env.config.framework_tabs_labels}
    return {fw: path for fw, path in notebooks.items() if path.is_file()}


# Frameworks whose notebooks Colab's runtime cannot run, and why (said next to the links).
NOT_IN_COLAB = {"mxnet": _("not in Colab: MXNet 1.9.1 needs numpy < 2, which Colab no "
                           "longer runs; use the notebooks on your own machine")}


def language_suffix(config) -> str:
    """"" for the English site, "-pt_BR" for the Portuguese one: in downloads' names."""
    return "" if config.language in (None, "en") else f"-{config.language}"


def download_name(docname: str, framework: str, edition: str = "", suffix: str = "") -> str:
    """Site path of a framework's notebook: _downloads/notebooks/chapters/batch_norm-pytorch.ipynb
    (``edition="-single"``: its single-file edition, batch_norm-pytorch-single.ipynb;
    ``suffix``: the language's, batch_norm-pytorch-pt_BR.ipynb)."""
    return f"{DOWNLOADS}/{docname}-{framework}{edition}{suffix}.ipynb"


def single_file_notebooks(env, docname: str) -> dict[str, Path]:
    """framework -> single-file edition of the page's notebook (committed by ``python -m
    book.single_file`` under ``framework_tabs_single_file_dir``)."""
    folder = Path(env.srcdir) / env.config.framework_tabs_single_file_dir
    stem, suffix = Path(docname).name, language_suffix(env.config)
    notebooks = {fw: folder / fw / f"{stem}-{fw}-single{suffix}.ipynb"
                 for fw in framework_notebooks(env, docname)}
    return {fw: path for fw, path in notebooks.items() if path.is_file()}


def cell_framework(node: nodes.Node, labels: dict[str, str]) -> str | None:
    """The framework of a MyST-NB code-cell container (None for anything else)."""
    if not (isinstance(node, nodes.container) and node.get("nb_element") == "cell_code"):
        return None
    for cls in node["classes"]:
        if cls.startswith("tag_") and cls[4:] in labels:
            return cls[4:]
    return None


def framework_runs(parent: nodes.Element, labels: dict[str, str]):
    """Runs of consecutive framework cells among ``parent``'s children.

    Yields lists of (framework, cell). A run ends at any other node, and also where a
    framework repeats, since one tab-set holds one cell per framework.
    """
    run: list[tuple[str, nodes.container]] = []
    for child in parent.children:
        framework = cell_framework(child, labels)
        if run and (framework is None or framework in {fw for fw, _ in run}):
            yield run
            run = []
        if framework is not None:
            run.append((framework, child))
    if run:
        yield run


def tab_set(run, labels: dict[str, str], default: str, group: str) -> nodes.container:
    """The sphinx-design tab-set for one run of cells, as its directives would build it.

    tab-set > tab-item (selected?) > [rubric label (sync_group, sync_id), tab-content];
    see ``sphinx_design.tabs`` (TabSetDirective, TabItemDirective) and its
    ``TabSetHtmlTransform``, which expects exactly this and turns it into HTML.
    """
    order = list(labels)
    run = sorted(run, key=lambda item: order.index(item[0]))
    present = [fw for fw, _ in run]
    selected = default if default in present else present[0]
    items = []
    for framework, cell in run:
        label = nodes.rubric(labels[framework], nodes.Text(labels[framework]),
                             classes=["sd-tab-label"], sync_group=group, sync_id=framework)
        content = create_component("tab-content", classes=["sd-tab-content"], children=[cell])
        items.append(create_component("tab-item", classes=["sd-tab-item"],
                                      selected=framework == selected,
                                      children=[label, content]))
    tabs = create_component("tab-set", classes=["sd-tab-set", "framework-tabs"], children=items)
    tabs.source, tabs.line = run[0][1].source, run[0][1].line
    return tabs


def github_repository(url: str) -> tuple[str, str] | None:
    """(owner, repo) of a GitHub repository URL, else None."""
    match = re.fullmatch(r"https?://(?:www\.)?github\.com/([^/]+)/([^/]+?)(?:\.git)?/?", url or "")
    return (match.group(1), match.group(2)) if match else None


class FrameworkTabs(SphinxTransform):
    """Group framework cells into synced tab-sets; add launch links to merged pages."""

    # After parsing, before the doctree-read event (priority 880), so that the
    # environment's collectors see the download links added here.
    default_priority = 500

    def apply(self, **kwargs) -> None:
        config = self.config
        labels = config.framework_tabs_labels
        parents = {id(cell.parent): cell.parent
                   for cell in self.document.findall(nodes.container)
                   if cell_framework(cell, labels)}
        for parent in parents.values():
            for run in list(framework_runs(parent, labels)):
                tabs = tab_set(run, labels, config.framework_tabs_default,
                               config.framework_tabs_sync_group)
                parent.replace(run[0][1], tabs)
                for _, cell in run[1:]:
                    parent.remove(cell)
        self.add_launch_block()

    def add_launch_block(self) -> None:
        """Links to the per-framework notebooks of this page, if it is a merged page."""
        env, docname = self.env, self.env.docname
        notebooks = framework_notebooks(env, docname)
        if not notebooks:
            return
        section = self.document.next_node(nodes.section)
        if section is None:
            logger.warning("framework_tabs: %s has no title to put the launch links under",
                           docname, location=docname)
            return
        single = single_file_notebooks(env, docname)
        suffix = language_suffix(self.config)
        items = nodes.bullet_list(classes=["framework-launch-list"])
        for framework in notebooks:
            label = self.config.framework_tabs_labels[framework]
            para = nodes.paragraph()
            para += nodes.strong(text=label)
            para += nodes.Text(": ")
            para += self.colab_launch(framework, single.get(framework))
            para += nodes.reference(
                "", "", nodes.inline(text=str(_("{label} notebook")).format(label=label)),
                refuri="",
                notebook_download=download_name(docname, framework, suffix=suffix),
                classes=["notebook-download", f"notebook-download-{framework}"])
            if framework in single:  # the helpers embedded: only the framework to install
                para += nodes.Text(" · ")
                para += nodes.reference(
                    "", "", nodes.inline(text=str(_("single file, no course package needed"))),
                    refuri="",
                    notebook_download=download_name(docname, framework, "-single", suffix),
                    classes=["notebook-download-single", f"notebook-download-single-{framework}"])
            items += nodes.list_item("", para)
        intro = nodes.paragraph(text=str(_(
            "Run this chapter yourself in one framework: each notebook has only that "
            "framework's code. Colab opens its single-file edition, which carries the "
            "course's helper package and needs only the framework, numpy and matplotlib; "
            "the notebook itself needs the package installed (see the README).")))
        block = nodes.admonition(
            "", nodes.title(text=str(_("Run this chapter"))), intro, items,
            classes=["tip", "framework-launch"], ids=[f"launch-{Path(docname).name}"])
        title_index = section.first_child_matching_class(nodes.title)
        section.insert(0 if title_index is None else title_index + 1, block)

    def colab_launch(self, framework: str, single_file: Path | None) -> nodes.inline:
        """"Open in Colab" for the single-file edition, or why Colab cannot run it."""
        if framework in NOT_IN_COLAB:
            note = nodes.emphasis(text=str(NOT_IN_COLAB[framework]))
            return nodes.inline("", "", note, nodes.Text(" · "), classes=["colab-launch",
                                                                         "no-colab"])
        if single_file is None:
            return nodes.inline()
        # The URL is filled in when the page is written (resolve_links), so that it
        # follows the repository settings even in an incremental build.
        colab = nodes.reference("", str(_("Open in Colab")), refuri="", internal=False,
                                colab_notebook=single_file.relative_to(self.env.srcdir)
                                .as_posix(), classes=["colab-link", f"colab-{framework}"])
        return nodes.inline("", "", colab, nodes.Text(" · "), classes=["colab-launch"])


def resolve_links(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Fill in the launch block's URLs: Colab from the configured GitHub repository, and
    the notebook downloads relative to this page (as download links: the browser saves
    the file under the name in its URL)."""
    for ref in list(doctree.findall(nodes.reference)):
        if "notebook_download" in ref:
            uri = relative_uri(app.builder.get_target_uri(docname), ref["notebook_download"])
            ref.replace_self(addnodes.download_reference(
                "", "", *ref.children, refuri=uri, classes=ref["classes"]))
    links = [ref for ref in doctree.findall(nodes.reference) if "colab_notebook" in ref]
    if not links:
        return
    options = app.config.html_theme_options or {}
    github = github_repository(options.get("repository_url", ""))
    branch = options.get("repository_branch") or "main"
    book_path = (options.get("path_to_docs") or "").strip("/")
    if github is None:
        logger.warning("framework_tabs: no GitHub repository url in the configuration "
                       "(repository: url: in _config.yml), so no Colab links", location=docname)
    for ref in links:
        if github is None:
            ref.parent.parent.remove(ref.parent)  # the link and its separator
            continue
        path = ref["colab_notebook"]
        path = posixpath.join(book_path, path) if book_path else path
        ref["refuri"] = "/".join([COLAB, *github, "blob", branch, path])


def copy_notebooks(app: Sphinx, exception: Exception | None) -> None:
    """Copy each merged page's per-framework notebooks to their download names."""
    if exception is not None or app.builder.format != "html":
        return
    suffix = language_suffix(app.config)
    for docname in sorted(app.env.found_docs):
        editions = [("", framework_notebooks(app.env, docname)),
                    ("-single", single_file_notebooks(app.env, docname))]
        for edition, notebooks in editions:
            for framework, path in notebooks.items():
                target = Path(app.outdir) / download_name(docname, framework, edition, suffix)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)


def header_downloads(app: Sphinx, pagename: str, templatename: str, context: dict,
                     doctree) -> None:
    """The theme's "Download this page" menu: the per-framework notebooks (on a merged
    page), instead of the page's source file and "print to PDF"."""
    group = next((button for button in context.get("header_buttons", [])
                  if button.get("label") == "download-buttons"), None)
    if group is None:
        return
    labels, suffix = app.config.framework_tabs_labels, language_suffix(app.config)
    notebooks = [{"type": "link",
                  "url": context["pathto"](download_name(pagename, fw, suffix=suffix), 1),
                  "text": str(_("{label} notebook")).format(label=labels[fw]),
                  "tooltip": str(_("Download the {label} notebook")).format(label=labels[fw]),
                  "icon": "fas fa-code", "label": f"download-{fw}-notebook-button"}
                 for fw in framework_notebooks(app.env, pagename)]
    replaced = {"download-source-button", "download-notebook-button", "download-pdf-button"}
    group["buttons"] = notebooks + [b for b in group["buttons"]
                                    if b.get("label") not in replaced]
    if not group["buttons"]:  # a page without notebooks: no empty menu
        context["header_buttons"].remove(group)


def add_script(app: Sphinx) -> None:
    """framework-tabs.js, told the sync group, the frameworks and sphinx-design's storage key."""
    if app.builder.format != "html":
        return
    app.config.html_static_path.append(str(STATIC))
    labels = app.config.framework_tabs_labels
    app.add_js_file("framework-tabs.js", **{
        "data-sync-group": app.config.framework_tabs_sync_group,
        "data-frameworks": " ".join(labels),
        "data-labels": "|".join(labels.values()),
        "data-storage-prefix": get_sd_config(app.env).tabs_storage_prefix,
    })


def setup(app: Sphinx) -> dict:
    app.setup_extension("sphinx_design")
    app.add_config_value("framework_tabs_labels", dict(LABELS), "env", [dict])
    app.add_config_value("framework_tabs_single_file_dir", "chapters/single_file", "env", [str])
    app.add_config_value("framework_tabs_notebook_dir", "", "env", [str])
    app.add_config_value("framework_tabs_default", "pytorch", "env", [str])
    app.add_config_value("framework_tabs_sync_group", "framework", "env", [str])
    app.add_transform(FrameworkTabs)
    app.connect("builder-inited", add_script)
    app.connect("doctree-resolved", resolve_links)
    app.connect("build-finished", copy_notebooks)
    # after sphinx-book-theme's add_header_buttons (priority 501)
    app.connect("html-page-context", header_downloads, priority=600)
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}

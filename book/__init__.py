"""The book's tooling, for maintainers: nothing here is installed with ``d2l_bn``.

    python -m book split      # chapters/<name>.md -> chapters/<framework>/<name>.ipynb
    python -m book execute    # full runs of those notebooks, outputs saved in place
    python -m book merge      # the site pages chapters/<name>.ipynb
    python -m book check      # exit 1 if anything generated is out of sync
    python -m book.single_file  # single-file editions (helpers embedded), both languages
    python -m book.lr_sweep pytorch  # the learning-rate sweep behind the chapter's choice
    python -m book.environments  # which environment and kernel each framework runs in
    python -m book.translation extract|status|check|notebooks|site  # the Portuguese edition

Modules: ``notebooks`` (split, merge, sync checks), ``execute`` (run a notebook in a
fresh kernel, full runs only on a quiet machine) with ``quiet`` (is the machine quiet?),
``files`` (reading notebooks and catalogs, one clear error for a bad one),
``definitions`` (the chapter's code as a module, for tests and benchmarks), ``tab`` (the
``%%tab`` magic of the sources), ``setup_cell`` (the notebooks' package check),
``learner_markdown`` (MyST made plain for Jupyter and Colab), ``single_file``,
``lr_sweep``, ``environments`` (the two virtual environments, and one Jupyter kernel per
framework), ``translation`` (the Brazilian Portuguese catalogs, site and notebooks) with
``markdown_blocks`` (the translatable blocks of a markdown cell). The Sphinx extensions
that render the pages are in ``_ext/``.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ROOT / "chapters"

# Two virtual environments, because MXNet 1.9.1 needs numpy < 2 and JAX needs numpy 2
# (book/environments.py maps each framework to its environment and kernel; a test checks
# that the rules below build exactly those):
#   .venv        requirements.txt        numpy 2: the book tooling, the tests, PyTorch,
#                                        TensorFlow, JAX
#   .venv-mxnet  requirements-mxnet.txt  numpy 1.26: MXNet, only what its notebooks and its
#                                        in-process tests need
# Every framework has a Jupyter kernel d2l-bn-<framework> running its environment's Python,
# registered into .venv's prefix, where .venv's Jupyter, nbclient and nbval find it.
PY := .venv/bin/python
MXNET_PY := .venv-mxnet/bin/python
VENV_STAMP := .venv/.installed
MXNET_STAMP := .venv-mxnet/.installed
KERNELS_STAMP := .venv/.kernels
# npm packages (pinned in package.json / package-lock.json): KaTeX renders the site's math
# at build time and its stylesheet and fonts are served by the site itself
# (_ext/prerendered_math.py); PurgeCSS trims the site's stylesheets (_ext/trimmed_assets.py).
NODE_MODULES := node_modules/.package-lock.json
KATEX := _vendor/katex/katex.min.css

.PHONY: setup data node site-tools browser book run notebooks check translations test unit lint clean

# --no-compile: Python compiles a module when it is first imported instead; pip's byte-
# compiling of every file of torch, TensorFlow and JAX took most of the install time.
.venv/.installed: requirements.txt pyproject.toml
	python3 -m venv .venv
	$(PY) -m pip install --quiet --no-compile -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

.venv-mxnet/.installed: requirements-mxnet.txt pyproject.toml
	python3 -m venv .venv-mxnet
	$(MXNET_PY) -m pip install --quiet --no-compile -r requirements-mxnet.txt
	$(MXNET_PY) -m pip install --quiet --no-deps -e .
	touch $@

# One kernel per framework (python -m book.environments kernels), into .venv's prefix.
$(KERNELS_STAMP): $(VENV_STAMP) $(MXNET_STAMP) book/environments.py d2l_bn/__init__.py
	$(PY) -m book.environments kernels
	touch $@

setup: $(VENV_STAMP) $(MXNET_STAMP) $(KERNELS_STAMP) data $(KATEX)

# System packages come from apt when we are root on a Debian-like machine; elsewhere they
# must be installed by hand (CONTRIBUTING.md lists them).
APT_INSTALL = if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  (apt-get update -qq && apt-get install -y -qq $(1)) >/dev/null; fi

# Real Fashion-MNIST from Debian when possible; otherwise d2l_bn downloads it on first use.
data:
	@[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || \
	  { $(call APT_INSTALL,dataset-fashion-mnist); }

# Node.js and npm: the site's build runs KaTeX and PurgeCSS in Node.js.
# (Order-only prerequisites keep apt-get calls one at a time under make -j.)
node: | data
	@command -v npm >/dev/null || { $(call APT_INSTALL,nodejs npm); }

site-tools: $(KATEX)

# KaTeX and PurgeCSS, as pinned (npm writes node_modules/.package-lock.json).
$(NODE_MODULES): package.json package-lock.json | node
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# KaTeX's stylesheet names each font in WOFF2, WOFF and TrueType; every browser the site
# supports reads WOFF2, so only those are copied and named.
$(KATEX): $(NODE_MODULES)
	rm -rf _vendor/katex && mkdir -p _vendor/katex/fonts
	cp node_modules/katex/dist/fonts/*.woff2 _vendor/katex/fonts/
	sed -E 's/,url\(fonts\/[A-Za-z0-9_-]+\.(woff|ttf)\) format\("(woff|truetype)"\)//g' \
	  node_modules/katex/dist/katex.min.css > $@.part && mv $@.part $@

# Debian's Chromium and its driver, for the browser test of the site (tests/test_site.py).
browser: | data node
	@[ -x /usr/bin/chromedriver ] || { $(call APT_INSTALL,chromium chromium-driver); }

# The site: the merged chapter page from the executed notebooks, then a strict build.
book: setup
	$(PY) -m book merge
	$(PY) -m book.single_file  # chapters/[pt_BR/]single_file/<fw>/<name>-<fw>-single*.ipynb
	.venv/bin/jupyter-book build . -W -n --keep-going
	$(PY) -m book.translation site  # the Portuguese site, _build/html/pt (CONTRIBUTING.md: Translations)
	@echo "The site is in _build/html: open $(CURDIR)/_build/html/index.html"
	@echo "(the chapter: $(CURDIR)/_build/html/chapters/batch_norm.html;"
	@echo " in Portuguese: $(CURDIR)/_build/html/pt/chapters/batch_norm.html)"

# The main job: build the book.
run: book

# After editing chapters/*.md: regenerate the per-framework notebooks, run each in full
# (about 100 minutes on 2 cores), and merge the site pages.
notebooks: setup
	$(PY) -m book split
	$(PY) -m book execute
	$(PY) -m book merge
	$(PY) -m book.single_file  # the single-file editions, with the new outputs

# Is everything generated in sync with its source? (And does the Portuguese translation
# cover the current English text?)
check: setup
	$(PY) -m book check
	$(PY) -m book.translation check

# After the English text changed: update the Portuguese catalogs (CONTRIBUTING.md: Translations).
translations: setup
	$(PY) -m book.translation extract

# Everything, including the strict site build, the browser test of the site and the
# slow end-to-end check on real data (tests/test_end_to_end.py), in two passes:
# 1. in .venv: the whole suite; the in-process framework tests for PyTorch, TensorFlow
#    (and JAX); nbval on every notebook, each in the kernel it names (MXNet's in
#    d2l-bn-mxnet, which runs .venv-mxnet's Python);
# 2. in .venv-mxnet: the in-process framework tests for MXNet only (no nbval: -o addopts=;
#    tests/conftest.py collects only the framework test modules there), run at the same
#    time as the first pass (its output goes to test-output/mxnet-pass.log, printed after).
# Each pass tests the frameworks of its environment (D2L_BN_TEST_FRAMEWORKS overrides).
test: setup browser
	@mkdir -p test-output
	@$(MXNET_PY) -m pytest -o addopts= tests > test-output/mxnet-pass.log 2>&1 & mxnet=$$!; \
	  $(PY) -m pytest; main=$$?; \
	  wait $$mxnet; second=$$?; \
	  echo "=== second pass: $(MXNET_PY) -m pytest -o addopts= tests ==="; \
	  cat test-output/mxnet-pass.log; \
	  [ $$main -eq 0 ] && [ $$second -eq 0 ]

# The fast local loop (under two minutes): the unit tests, with PyTorch's framework tests only
# (UNIT_FRAMEWORKS="pytorch jax" adds more); no nbval, site, browser, learner envs or benchmarks.
UNIT_FRAMEWORKS ?= pytorch
unit: $(KERNELS_STAMP)
	D2L_BN_TEST_FRAMEWORKS=$(UNIT_FRAMEWORKS) $(PY) -m pytest -o addopts= -q -m "not slow" \
	  --ignore=tests/test_site.py --ignore=tests/test_translation.py -k "not quick_run" tests

lint: setup
	$(PY) -m ruff check d2l_bn book benchmarks tests _ext conftest.py

clean:
	rm -rf _build .pytest_cache test-output _vendor

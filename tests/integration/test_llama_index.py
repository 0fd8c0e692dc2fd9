"""The README's llama-index examples, run as written: real llama-index, real Chroma, on the
hash-embedder index of the shipped corpus.

The examples build everything from default settings (``PaperRetriever(k=3)``,
``CitedQueryEngine(backend="extractive")``, ``Assistant()``), so the environment points
the defaults at the test index, exactly as a user's ``ASSISTANT_*`` variables would.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from llama_index.core.base.response.schema import Response
from llama_index.core.schema import NodeWithScore

from assistant.backends import registry
from assistant.core.settings import PROJECT_ROOT, Settings
from assistant.core.types import Answer
from assistant.integrations.llama_index import CitedQueryEngine, PaperRetriever

README = PROJECT_ROOT / "README.md"


def readme_example(name: str) -> str:
    """The ```python block right after ``<!-- example: NAME -->`` in the README."""
    text = README.read_text(encoding="utf-8")
    marker = f"<!-- example: {name} -->"
    assert text.count(marker) == 1, f"README.md needs exactly one {marker}"
    block = re.match(r"\s*```python\n(.*?)\n```", text.split(marker, 1)[1], re.DOTALL)
    assert block, f"no ```python block right after {marker}"
    return block.group(1)


def run_example(name: str) -> dict[str, Any]:
    """Execute one README example; its top-level names are returned."""
    namespace: dict[str, Any] = {"__name__": f"readme_{name.replace('-', '_')}"}
    exec(compile(readme_example(name), f"README.md <{name}>", "exec"), namespace)
    return namespace


@pytest.fixture
def defaults_on_test_index(hash_index: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_INDEX__PERSIST_DIR", str(hash_index.index.persist_dir))
    monkeypatch.setenv("ASSISTANT_INDEX__EMBEDDER", "hash")


QUERY = "failure modes of physics-informed neural networks"


def test_paper_retriever_example(defaults_on_test_index: None, capsys) -> None:  # noqa: ANN001
    retriever = run_example("llama-index-retriever")["retriever"]
    assert isinstance(retriever, PaperRetriever)
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) == 3  # k=3: one line per paper
    nodes = retriever.retrieve(QUERY)
    assert len(nodes) == 3 and all(isinstance(n, NodeWithScore) for n in nodes)
    ids = [n.node.metadata["paper_id"] for n in nodes]
    assert len(set(ids)) == 3, "one node per paper, not per chunk"
    scores = [n.score for n in nodes]
    assert scores == sorted(scores, reverse=True)
    for node, line in zip(nodes, printed, strict=True):
        meta = node.node.metadata
        assert meta["title"] and meta["passages"] and all(meta["passages"])
        assert node.node.get_content().startswith(meta["title"])
        assert meta["title"] in line and line.startswith(str(node.score))
    assert any("physics-informed" in n.node.metadata["title"].lower() for n in nodes)


def test_cited_query_engine_example(defaults_on_test_index: None, capsys) -> None:  # noqa: ANN001
    namespace = run_example("llama-index-query-engine")
    assert isinstance(namespace["engine"], CitedQueryEngine)
    response = namespace["response"]
    assert isinstance(response, Response)
    citations = response.metadata["citations"]
    assert citations and not response.metadata["abstained"]
    assert response.metadata["backend"] == "extractive"
    assert response.response and all(f"[{c['number']}]" in response.response for c in citations)
    # The source nodes are exactly the cited papers, in citation order.
    cited = list(dict.fromkeys((c["number"], c["paper_id"]) for c in citations))
    nodes = [
        (n.node.metadata["number"], n.node.metadata["paper_id"]) for n in response.source_nodes
    ]
    assert nodes == cited
    for node in response.source_nodes:
        own = [c for c in citations if c["number"] == node.node.metadata["number"]]
        assert node.node.metadata["citations"] == own
    answer = Answer.model_validate(response.metadata["answer"])
    assert answer.text == response.response
    out = capsys.readouterr().out
    assert response.response in out and str(citations[0]) in out


def test_any_llama_index_llm_example(defaults_on_test_index: None, capsys) -> None:  # noqa: ANN001
    try:
        namespace = run_example("llama-index-llm")
        assert "my-llm" in registry.available_backends()
        answer = namespace["answer"]
        assert isinstance(answer, Answer)
        # MockLLM writes filler that cannot be verified: a labelled extractive answer then.
        assert answer.backend in {"my-llm", "extractive"}
        if answer.backend == "extractive":
            assert answer.fallback_reason
        assert answer.sources
        assert capsys.readouterr().out.startswith(answer.backend)
    finally:
        registry.BACKENDS.unregister("my-llm")
    assert "my-llm" not in registry.available_backends()

"""llama-index as a first-class way in: our retrieval and our checked answers as
llama-index components.

- ``PaperRetriever`` is a ``BaseRetriever``: one ``NodeWithScore`` per paper (not per
  chunk), whose text is the title and abstract and whose metadata carries the paper id,
  title, authors, year, url, source files and the best matching passages.
- ``CitedQueryEngine`` is a ``BaseQueryEngine``: ``query()`` returns a llama-index
  ``Response`` whose ``source_nodes`` are the cited papers and whose ``metadata`` carries
  the verified citations (and the whole typed ``Answer``).

Any llama-index ``LLM`` can write the answers: see ``assistant.backends.llama_index``.
"""

from __future__ import annotations

from typing import Any

from llama_index.core.base.base_query_engine import BaseQueryEngine
from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.base.response.schema import Response
from llama_index.core.callbacks import CallbackManager
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from assistant.answering.assistant import Assistant
from assistant.core.settings import RetrievalMode, Settings, load_settings
from assistant.core.types import Answer, NumberedSource, PaperHit
from assistant.retrieval.retriever import Retriever


def _node(
    paper_id: str,
    title: str,
    abstract: str,
    score: float,
    meta: dict[str, Any],
) -> NodeWithScore:
    node = TextNode(
        id_=paper_id,
        text=f"{title}\n\n{abstract}",
        metadata={"paper_id": paper_id, "title": title, **meta},
        # The LLM and the embedder see the title and abstract, not the bookkeeping.
        excluded_llm_metadata_keys=list(meta),
        excluded_embed_metadata_keys=list(meta),
    )
    return NodeWithScore(node=node, score=score)


def hit_node(hit: PaperHit) -> NodeWithScore:
    return _node(
        hit.paper_id,
        hit.title,
        hit.abstract,
        hit.score,
        {
            "rank": hit.rank,
            "authors": hit.authors,
            "year": hit.year,
            "url": hit.url,
            "sources": hit.sources,
            "passages": [p.text for p in hit.passages],
        },
    )


def source_node(source: NumberedSource, citations: list[dict[str, Any]]) -> NodeWithScore:
    return _node(
        source.paper_id,
        source.title,
        source.abstract,
        source.score,
        {
            "number": source.number,
            "authors": source.authors,
            "year": source.year,
            "url": source.url,
            "sources": source.origin,
            "passages": source.passages,
            "citations": citations,
        },
    )


class PaperRetriever(BaseRetriever):
    """Hybrid paper search as a llama-index retriever (one node per paper)."""

    def __init__(
        self,
        retriever: Retriever | None = None,
        *,
        settings: Settings | None = None,
        k: int | None = None,
        mode: RetrievalMode | None = None,
        callback_manager: CallbackManager | None = None,
    ) -> None:
        self._retriever = retriever or Retriever(settings or load_settings())
        self._k, self._mode = k, mode
        super().__init__(callback_manager=callback_manager)

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        hits = self._retriever.search(query_bundle.query_str, k=self._k, mode=self._mode)
        return [hit_node(h) for h in hits]


class CitedQueryEngine(BaseQueryEngine):
    """Checked, cited answers as a llama-index query engine.

    ``options`` are per-call options (``backend``, ``mode``, ``k``, …) for every query.
    """

    def __init__(
        self,
        assistant: Assistant | None = None,
        *,
        settings: Settings | None = None,
        callback_manager: CallbackManager | None = None,
        **options: Any,
    ) -> None:
        self._assistant = assistant or Assistant(settings)
        self._options = options
        self._assistant.settings_for(options)  # unknown options fail now, not at query time
        super().__init__(callback_manager=callback_manager)

    def _get_prompt_modules(self) -> dict[str, Any]:
        return {}  # prompts are files (prompts/), not llama-index prompt modules

    def _query(self, query_bundle: QueryBundle) -> Response:
        return to_response(self._assistant.ask(query_bundle.query_str, **self._options))

    async def _aquery(self, query_bundle: QueryBundle) -> Response:
        # The pipeline is synchronous and CPU-bound; run it inline.
        return self._query(query_bundle)


def to_response(answer: Answer) -> Response:
    """A llama-index ``Response``: source nodes are the cited papers, in citation order."""
    by_number = {s.number: s for s in answer.sources}
    cited: dict[int, list[dict[str, Any]]] = {}
    for c in answer.citations:
        cited.setdefault(c.number, []).append(c.model_dump(mode="json"))
    nodes = [source_node(by_number[n], cs) for n, cs in cited.items() if n in by_number]
    return Response(
        response=answer.text,
        source_nodes=nodes,
        metadata={
            "citations": [c.model_dump(mode="json") for c in answer.citations],
            "abstained": answer.abstained,
            "standalone_query": answer.standalone_query,
            "backend": answer.backend,
            "answer": answer.model_dump(mode="json"),
        },
    )

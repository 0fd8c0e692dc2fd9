"""The peer that ingestion is measured against: the naive LlamaIndex starter pipeline.

``VectorStoreIndex.from_documents`` with ``HuggingFaceEmbedding`` (the same local
all-MiniLM-L6-v2 weights, torch, default batch size) writing into a ``ChromaVectorStore``,
one document per paper (``title. abstract``, the papers our own reader returns, so both
pipelines embed the same corpus). Everything is left at LlamaIndex's defaults, as in its
starter tutorial. Run as its own process so the timing includes imports and model load:

    .venv/bin/python bench/peer_llamaindex.py INDEX_DIR     # prints one JSON line

Needs the ``bench`` extra (llama-index-embeddings-huggingface, -vector-stores-chroma).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

STARTED = time.perf_counter()
for key, value in {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "TOKENIZERS_PARALLELISM": "false",
}.items():
    os.environ.setdefault(key, value)
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(index_dir: str) -> dict[str, float | int]:
    import chromadb
    from llama_index.core import Document, StorageContext, VectorStoreIndex
    from llama_index.core import Settings as LlamaSettings
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding
    from llama_index.vector_stores.chroma import ChromaVectorStore

    from assistant.core.settings import load_settings
    from assistant.index.embeddings import BUNDLED_MODEL, resolve_model_path
    from assistant.ingest.pipeline import load_papers

    papers = load_papers(load_settings())[0]
    docs = [Document(text=f"{p.title}. {p.abstract}", metadata={"title": p.title}) for p in papers]
    LlamaSettings.llm = None  # no LLM is needed to build an index (and none may be fetched)
    LlamaSettings.embed_model = HuggingFaceEmbedding(
        model_name=str(resolve_model_path(BUNDLED_MODEL)), device="cpu"
    )
    client = chromadb.PersistentClient(path=index_dir)
    store = ChromaVectorStore(chroma_collection=client.get_or_create_collection("peer"))
    index = VectorStoreIndex.from_documents(
        docs, storage_context=StorageContext.from_defaults(vector_store=store)
    )
    nodes = len(index.index_struct.nodes_dict) or store._collection.count()
    return {"papers": len(docs), "nodes": nodes, "wall_s": time.perf_counter() - STARTED}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))

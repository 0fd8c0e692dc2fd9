"""The claim checker finds each cited paper's abstract whatever order its chunks were
stored in (ingest writes them shortest first, so a paper's second chunk can come first)."""

from __future__ import annotations

from typing import Any

from assistant.evaluation.claims import ClaimLine, PaperIndex


class Rows:
    def __init__(self, metas: list[dict[str, Any]]) -> None:
        self.metas = metas

    def get(self, include: list[str], limit: int, offset: int) -> dict[str, Any]:
        page = self.metas[offset : offset + limit]
        return {"ids": [f"c{offset + i}" for i in range(len(page))], "metadatas": page}


def test_the_abstract_comes_from_the_first_chunk_even_when_stored_later() -> None:
    later = {"paper_id": "p1", "title": "Stiff PINNs", "position": 1}
    first = {"paper_id": "p1", "title": "Stiff PINNs", "position": 0, "abstract": "PINNs fail."}
    other = {"paper_id": "p2", "title": "Other", "position": 0, "abstract": "Else."}
    papers = PaperIndex(Rows([later, other, first]))
    by_id = papers.find(ClaimLine(line=1, id="a", claim="x", paper_id="p1"))
    by_title = papers.find(ClaimLine(line=2, id="b", claim="x", title="Stiff PINNs"))
    assert not isinstance(by_id, str) and by_id.abstract == "PINNs fail."
    assert not isinstance(by_title, str) and by_title.abstract == "PINNs fail."

"""Search over procedures, FAQ entries and legal passages.

Modules, from the outside in:

- ``retrieval.service`` — :class:`RetrievalService`, what the app uses: ``build``/``load``,
  ``upsert``/``remove``, ``search(query, top_k) -> SearchResponse`` (``.to_json()``).
- ``retrieval.hybrid`` — :class:`HybridIndex`: BM25 on accented and unaccented syllables,
  dense FAISS search, tuned fusion and calibrated abstention; the tuned constants live here.
- ``retrieval.documents`` — :class:`SearchDocument` and converters from the knowledge base.
- ``retrieval.results`` — hits and the response with its fixed JSON shape.
- ``retrieval.embedders`` / ``retrieval.stores`` — protocols with real and fake versions.
- ``retrieval.normalize`` / ``retrieval.lexicon`` — Vietnamese normalisation and its tables.
- ``retrieval.evaluate`` — hit@k, MRR and abstention on labelled questions.
- ``retrieval.dev`` — catalogue reader and tuning helpers for benchmarks and tests.

Importing the package loads no model; embedders load in ``warm_up()``.
"""

"""Search over procedures, FAQ entries and legal passages.

Modules, from the outside in:

- ``retrieval.service`` — :class:`RetrievalService`, what the app uses: ``build``/``load``,
  ``upsert``/``remove``, ``search(query, top_k) -> SearchResponse`` (``.to_json()``).
- ``retrieval.hybrid`` — :class:`HybridIndex`: builds, updates and searches the index, one
  step per module below it:
  ``retrieval.analysis`` (the query read once: English, short-hand, synonyms, diacritics),
  ``retrieval.groups`` (procedures and passages, each with its indexes),
  ``retrieval.lexical`` (document tokens and BM25 fields), ``retrieval.stores`` (vectors),
  ``retrieval.fusion`` (signals and their tuned weights), ``retrieval.abstention``
  (confidence features and the tuned model), ``retrieval.legal_ranking`` (articles),
  ``retrieval.persistence`` (save and load).
- ``retrieval.documents`` — :class:`SearchDocument` and converters from the knowledge base.
- ``retrieval.results`` — hits and the response with its fixed JSON shape.
- ``retrieval.embedders`` / ``retrieval.stores`` — protocols with real and fake versions.
- ``retrieval.normalize`` / ``retrieval.lexicon`` — Vietnamese normalisation and its tables.
- ``retrieval.evaluate`` — hit@k, MRR and abstention on labelled questions.
- ``retrieval.dev`` — catalogue reader and tuning helpers for benchmarks and tests.

Importing the package loads no model; embedders load in ``warm_up()``.
"""

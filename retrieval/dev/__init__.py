"""Development helpers: read the shared catalogue and legal texts without the importers.

Used by the benchmark and the evaluation tests. They prefer the project's own parsers
(``knowledge_base.dichvucong``, ``knowledge_base.legal``) when those exist, and fall back
to the quick readers here otherwise.
"""


def deployment_service():
    """The search of the deployment named by the settings (``MOTCUA_DATA_DIR``), built in memory from
    its knowledge base with the machine's shared embedding cache (``var/embeddings``): what the tuning
    scripts measure. The deployment's own saved index is not touched."""
    import tempfile

    from motcua.search_index import knowledge_documents
    from motcua.settings import get_settings
    from retrieval.embedders import default_cache_dir
    from retrieval.service import RetrievalService

    settings = get_settings()  # read only
    documents, synonyms = knowledge_documents(settings.sqlalchemy_url)
    service = RetrievalService(embedder=settings.embedding_model, synonyms=synonyms, autosave=False,
                               cache_dir=default_cache_dir())
    with tempfile.TemporaryDirectory() as scratch:
        service.build(documents, scratch)
    return service

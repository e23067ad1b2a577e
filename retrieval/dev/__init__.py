"""Development helpers: read the shared catalogue and legal texts without the importers.

Used by the benchmark and the evaluation tests. They prefer the project's own parsers
(``knowledge_base.dichvucong``, ``knowledge_base.legal``) when those exist, and fall back
to the quick readers here otherwise.
"""

"""The standards core: JSON-LD contexts and loader, canonicalisation, Data Integrity signing,
proof sets, verification, DID methods, Bitstring and Token Status Lists, JOSE, SD-JWT (VC),
OpenID4VCI messages, the OB 3.0 and EDC builders, the ELM vocabularies, badge baking,
reading other issuers' credentials into summaries, and the rules of pathways.

Plain values in, plain values out. It imports no Django, no Celery and nothing of the
project outside credentials.standards (docs/architecture.md; an import-linter contract
enforces it).
"""

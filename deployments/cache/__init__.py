"""The semantic/exact response cache: Ray-free classes (embedder, index, decision stage, entry store) and the
SemanticCache deployment that puts them behind a Ray handle."""

"""Testing support: the engine conformance suite lives in ``oban.testing.conformance``."""

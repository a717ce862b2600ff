"""Conformance of traffic the suite did not generate: recorded HAR files and the validating proxy."""

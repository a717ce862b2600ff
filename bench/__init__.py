"""Benchmarks of every layer, each a ratio against a baseline measured in the same run.

Why ratios: the machines are shared and noisy, so an absolute time means little; a figure measured next
to its baseline, interleaved and repeated, says what a layer costs relative to the alternative.
Run with ``python -m bench`` (``make bench``); ``--quick`` runs a tiny bounded form of every part.
"""

"""Objective metrics for vision-to-music systems (see "Vision-to-Music Generation: A
Survey", ISMIR 2025), each module in mir_eval's shape: ``validate``, one function per
metric, and ``evaluate`` returning a dict with stable names.

- :mod:`v2m.metrics.symbolic` -- MIDI: entropies, scale consistency, empty beats, grooves,
  inter-onset interval.
- :mod:`v2m.metrics.rhythm` -- audio rhythm and vision-music correspondence: beat
  F-measure, beats coverage / hit scores, beat align scores, cut-to-beat hits, AV-Align.
- :mod:`v2m.metrics.structure` -- MusDr's structure indicator (fitness scape plot).
- :mod:`v2m.metrics.embedding` -- Frechet distance (FAD/FD, FAD-infinity), KL divergence,
  inception score, cosine similarity, on any embeddings.
"""

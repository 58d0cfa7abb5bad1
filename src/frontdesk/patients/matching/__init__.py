"""Duplicate-patient scoring for the master patient index (pure Python, no models).

A Fellegi-Sunter model: each field of two records is compared into one of a few
agreement levels (exact, nickname, one typo, day and month swapped, different, missing...),
and each level carries a weight log2(m/u), where m is the chance of that level when the two
records are the same person and u the chance when they are not. The score is the sum of the
weights in bits, so +10 means the agreements seen are about 1000 times likelier for one
person than for two. A missing field weighs nothing.

One job a module, each importing only those before it:
- `records`: the record, its normalised and prepared form, blocking keys;
- `levels`: each field of a pair compared into its agreement level;
- `weights`: the levels' weights, term frequencies and the household rules summed;
- `contradictions`: what inside a family keeps a pair from the existing-patient verdict;
- `reasons`: the evidence in the officer's words;
- `verdict`: `match_score`, the thresholds and the `MatchResult`.
"""

"""Data-quality gate of the warehouse with Great Expectations 1.x.

* `definitions`: the suites, defined in code, written to `expectations/*.json` for review
* `suites`: the JSON format, loading and checks
* `sources`: raw files / warehouse opened read-only, frames fetched in key-partitioned chunks
* `runner`: GX validation of the frames, chunk results merged, severity judged
* `docs`: Data Docs built with GX and rewritten to open offline
* `cli`: `scripts/validate.py`
"""

"""pytest-benchmark timings of clustering, matching and training at RegDB and SYSU-MM01 scale (docs/design.md §1,§4)."""

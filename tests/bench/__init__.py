"""pytest-benchmark timings of clustering, matching and training at RegDB and SYSU-MM01 scale (DESIGN §1-2)."""

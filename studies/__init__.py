"""One module per study: variants, search space, datasets, seeds and per-profile sizes."""

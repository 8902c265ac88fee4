"""The data check: does a dataset tree hold the dataset it claims to be?

`python -m harness.study --check-data [--data-root DIR]` counts identities and images per split, camera and
modality and sets them beside the known counts (published facts for the real datasets, the generator's spec for
the synthetic stand-ins), decodes every image once, builds the decoded-image caches a study of the chosen
profile will read, and prints a fingerprint of the tree. Study runs record the same counts and fingerprint in
their provenance, so a report on a tree that is not the known dataset says so.
"""

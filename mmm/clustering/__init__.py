"""CMC clustering: exact kNN, sparse k-reciprocal Jaccard distance, DBSCAN on sparse distances."""

"""SCA: GMM confidence, confidence-weighted prototypes, L_intra and the multi-kernel MMD L_inter."""

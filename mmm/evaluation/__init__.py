"""Re-ID evaluation: CMC/mAP/mINP for SYSU-MM01 and RegDB, and the protocol runners."""

"""Datasets: records, readers of the real SYSU-MM01 and RegDB layouts, synthetic stand-ins, image caches."""

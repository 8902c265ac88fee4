"""Backbones: torchvision-compatible ResNets and the two-stream AGW model."""

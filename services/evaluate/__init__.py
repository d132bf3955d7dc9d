"""Evaluation: perplexity, answer comparison, KV-cache fake quantization."""

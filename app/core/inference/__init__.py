"""Serving: the per-op roofline of prefill and decode, KV capacity under each engine's rule,
and paged-KV continuous batching, for a model split over TP, PP, EP and DP."""

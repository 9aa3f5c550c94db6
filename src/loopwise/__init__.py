"""loopwise: active learning loops that are recorded, resumable and reported."""

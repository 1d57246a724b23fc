"""xiezhi.guard"""

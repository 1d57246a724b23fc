"""xiezhi.taxonomy"""

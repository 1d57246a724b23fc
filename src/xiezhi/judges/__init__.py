"""xiezhi.judges"""

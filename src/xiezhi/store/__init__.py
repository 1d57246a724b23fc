"""xiezhi.store"""

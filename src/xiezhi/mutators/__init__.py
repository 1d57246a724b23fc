"""xiezhi.mutators"""

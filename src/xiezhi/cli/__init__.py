"""xiezhi.cli"""

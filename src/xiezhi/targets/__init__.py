"""xiezhi.targets"""

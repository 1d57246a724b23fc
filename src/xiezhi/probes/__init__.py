"""xiezhi.probes"""

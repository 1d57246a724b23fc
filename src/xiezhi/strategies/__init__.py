"""xiezhi.strategies"""

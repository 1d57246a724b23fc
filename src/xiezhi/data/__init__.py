"""xiezhi.data"""

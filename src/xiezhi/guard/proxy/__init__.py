"""xiezhi.guard.proxy"""

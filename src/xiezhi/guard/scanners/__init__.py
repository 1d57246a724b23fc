"""xiezhi.guard.scanners"""

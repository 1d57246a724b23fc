"""xiezhi.report"""

"""xiezhi.guard.policy"""

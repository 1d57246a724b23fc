"""xiezhi.attacks"""

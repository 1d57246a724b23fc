"""xiezhi.probes"""

from xiezhi.probes import seeds  # noqa: F401  (registers tc260, tc260-harmful, benign, file)

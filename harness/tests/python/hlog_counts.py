"""Reads an HdrHistogram interval log with HdrHistogram's own Python port (PyPI hdrhistogram)
and prints, as JSON, each tag's total count and largest value (microseconds): agentproof's worker logs
must be readable by the standard tools, not only by agentproof."""
import json
import sys

from hdrh.log import HistogramLogReader
from hdrh.histogram import HdrHistogram

reference = HdrHistogram(1, 60_000_000, 3)
reader = HistogramLogReader(sys.argv[1], reference)
tags = {}
while True:
    histogram = reader.get_next_interval_histogram()
    if histogram is None:
        break
    tag = histogram.get_tag()
    tags[tag] = {
        "count": histogram.get_total_count(),
        "max_us": histogram.get_max_value(),
    }
print(json.dumps(tags))

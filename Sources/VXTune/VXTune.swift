// Host inspection and tuning recommendations.

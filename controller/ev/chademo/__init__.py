"""CHAdeMO, the charger side: the sequence, its timeouts and endings, the charger frames."""

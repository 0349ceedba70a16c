"""The mode machine (``transitions``): states, the transition table, guards and callbacks."""

"""Estimators on meter data (numpy): RMS voltage, frequency, ROCOF."""

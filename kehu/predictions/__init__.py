"""Predictions: lifetime value, churn risk with its warning levels, the next best action and
recommended products, fitted nightly on everyone's purchases."""

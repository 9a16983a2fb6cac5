"""Can we account for it: balances, their uncertainty, sequential tests, sampling, estimates."""

"""Can we account for it: material balances, their uncertainty, sequential tests, sampling, estimates."""

"""Buy-till-you-die models: BG/NBD, Pareto/NBD and Gamma-Gamma."""

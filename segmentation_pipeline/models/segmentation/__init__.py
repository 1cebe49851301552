"""Behavioural segmentation: k-means with the choice of k and stable ids."""

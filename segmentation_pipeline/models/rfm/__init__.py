"""RFM: recency, frequency and monetary quintile scores and named segments."""

"""marts.customer_profile: one row per customer, every feature, score, class, segment and CLV."""

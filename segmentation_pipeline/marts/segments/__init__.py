"""marts.segments and marts.segment_claims: personas, their economics and explanations, per behavioural segment."""

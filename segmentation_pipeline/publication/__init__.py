"""What BI tools read: the published snapshot of the marts, and erasure from it."""

"""Self-contained HTML reports (inline CSS and SVG, no network) built from the segment marts."""

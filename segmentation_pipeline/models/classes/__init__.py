"""Customer classes: lifecycle, risk, volume and loyalty."""

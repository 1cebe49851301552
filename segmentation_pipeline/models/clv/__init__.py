"""Customer lifetime value: purchase summaries, model choice, 12-month CLV."""

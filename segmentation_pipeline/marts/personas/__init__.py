"""Personas: claims with their evidence, the sentence plan and its two phrasebooks."""

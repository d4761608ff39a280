"""Experiments and jobs of the application layer (each writes JSON and, where asked, a PNG)."""

"""Compiler passes over the IR and the lowered device graph (one module per pass)."""

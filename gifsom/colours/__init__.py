"""Colour search shared by the palette and mapping stages: nearest palette entries of colours."""

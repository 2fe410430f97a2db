"""The engine: a fixed list of small processors over due rows, run in cycles."""

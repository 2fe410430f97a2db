"""Pure rules: standard library only, no clock, database, network or settings."""

"""Project Office+: backend of a municipal education project office."""

"""Management commands of the cpe app."""

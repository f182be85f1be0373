"""Pure tensor ops: no registry, no models."""

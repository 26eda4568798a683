"""The built-in vehicle behaviour catalogue (YAML data, loaded by simulators.vehicle.archetypes)."""

print("atlas-testkit: not yet implemented")

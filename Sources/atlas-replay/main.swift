print("atlas-replay: not yet implemented")

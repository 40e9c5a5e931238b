print("atlas: not yet implemented")

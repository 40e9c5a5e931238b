print("atlas-bench: not yet implemented")

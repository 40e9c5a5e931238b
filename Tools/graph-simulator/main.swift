print("graph-simulator: not yet implemented")

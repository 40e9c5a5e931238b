// Graph simulator library.

"""The input set: encodings (points in R^d) and neighbour graphs on them."""

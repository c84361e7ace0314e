"""Element-wise activations: one FLOP-counted pass over the tensor each."""

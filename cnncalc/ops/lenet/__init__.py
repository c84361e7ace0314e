"""LeNet-5's own layers (LeCun et al., 1998): trainable sub-sampling and the
Euclidean RBF output.  (The partial connection table of C3 is ``conv``'s ``connect``.)"""

"""The integer golden model: pure int64 numpy kernels plus the table builders they use."""

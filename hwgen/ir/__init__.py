"""The dataflow IR: typed stages, layers, an executor and a text dump."""

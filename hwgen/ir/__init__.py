"""The dataflow IR: typed stages, layers, an executor, a text dump and a saved form (store)."""

"""`hwgen search`: hardware-aware mixed precision. A multi-objective search (Optuna NSGA-II) over
every quantizer's width and the folding, each trial priced by the cost model for an ECP5 device,
the front's best points verified bit for bit by the whole flow (hwgen.search.run)."""

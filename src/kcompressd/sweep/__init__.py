"""Design-space sweeps: a grid file expands to runs, run on a process pool or a Dask cluster,
each finished run written to SQLite at once so a killed sweep resumes where it stopped.

`grid` reads and checks the grid, `runner` runs one point (in a worker), `engine` runs many,
`db` is the results database, `metrics` the key figures stored as columns.
"""

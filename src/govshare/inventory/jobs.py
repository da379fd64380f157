"""Background work for the inventory: none. The statistics are computed on request from the inventory and
the published catalog (a few hundred systems per node), so nothing needs precomputing or refreshing."""

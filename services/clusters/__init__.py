"""Remote jobs: clusters, the Ray Jobs API executor, the paths a cluster sees, fetching outputs."""

"""Reports: pure functions from a stored run to matrices and their renderings."""

"""Client-side checks of reana.yaml: parameters, server capabilities, environments."""

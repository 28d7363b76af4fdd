"""Client-side loading of the workflow files of cwl and snakemake reana.yaml specifications."""

"""Snakemake workflow engine: Snakemake 9 sending each job to the run's job controller."""

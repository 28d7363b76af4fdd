"""CWL workflow engine: cwltool 3.3 with every CommandLineTool job sent to the job controller."""

cwlVersion: v1.2
class: Workflow
inputs:
  infile: File
outputs:
  counted:
    type: File
    outputSource: count/out
steps:
  count:
    run: tools/wc.cwl
    in:
      infile: infile
    out: [out]

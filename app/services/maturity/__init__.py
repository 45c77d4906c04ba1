"""Office maturity: the functions of the office, the head's dated self-assessments, the profile
and its history, the facts the system counts for each function, and the capabilities of the
API that grow with the office's maturity (gated when enforced).

- `scale`: the maturity scale and its labels, the catalogue's codes, the office's calendar of
  assessments and the query of each function's newest assessment.
- `functions`: the catalogue and the assessments (recorded, listed, read).
- `profile`: the profile on a day and its history, in SQL.
- `evidence`: the facts counted per function over 12 months (`PROVIDERS`).
- `capabilities`: the table of capabilities, their governing functions and required levels.
- `gating`: that table against the current levels: served, and enforced by `deps.gated`.
- `labels`: the capability's enums with Russian and English labels for `/meta/enums`.
"""

"""Expertise (экспертиза) of initiatives and the growth of experts.

- `criteria`: numbered criteria sets, one active;
- `assignments`: review assignments and who reads which reviews (blind reading, conflicts);
- `conclusions`: the expert's scored conclusion, draft and submission, and its quality rating;
- `summary`: an initiative's expertise summary by round, with the experts' disagreement;
- `experts`: positions on the expert ladder, profiles and the head's grants;
- `suggestions`: which experts to ask for an initiative;
- `guards`: what the lifecycle table asks of expertise (imported by `services/lifecycle.py`,
  so it imports nothing from the rest of the package).
"""

"""The network's charter (устав сети): versions, amendments, their discussion and vote, adoption
and members' acknowledgements.

- `text`: sections, applying an amendment's changes, diffs by section and by word (pure);
- `workflow`: the amendment workflow as one table (served by `/meta/enums` and walked by tests);
- `versions`: the version in force on a day, reading versions, their history and diff;
- `amendments`: who sees an amendment, proposing and editing it, moving it through `workflow`;
- `voting`: the voting rule: members, tallies, quorum and threshold;
- `discussion`: comments on sections and votes;
- `adoption`: a new version from accepted amendments, conflicts and superseding;
- `acknowledgements`: members' agreement with the version in force.
"""

"""Meetings of the project office (заседания): agenda, attendance, decisions that move
initiatives through their lifecycle, reflection, and the minutes.

- `reading`: who sees which meeting and how a meeting and its parts are read;
- `planning`: planning and holding meetings, their numbers, attendance and the list;
- `agenda`: the agenda items in order;
- `decisions`: decisions, including those that take a lifecycle step;
- `minutes`: the minutes as Markdown;
- `labels`: ru/en labels of the meetings' enums.
"""

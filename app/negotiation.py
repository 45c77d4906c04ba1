"""Which representation a caller asked for: `?format=` first, then the `Accept` header."""

# Starlette adds `; charset=utf-8` to the header of a text/* response.
CSV_MEDIA_TYPE = "text/csv"


def _quality(accept: str, media_type: str) -> float:
    """The q-value `accept` gives `media_type` (its most specific matching range), 0 if none."""
    kind = media_type.split("/")[0]
    best: tuple[int, float] = (-1, 0.0)
    for part in accept.split(","):
        media_range, *params = (p.strip() for p in part.split(";"))
        media_range = media_range.lower()
        if media_range == media_type:
            specificity = 2
        elif media_range == f"{kind}/*":
            specificity = 1
        elif media_range == "*/*":
            specificity = 0
        else:
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        best = max(best, (specificity, q))
    return best[1]


def wants_csv(output_format: str | None, accept: str | None) -> bool:
    """CSV when `format=csv`, or when `Accept` prefers `text/csv` to `application/json` (a tie,
    `*/*` or no header at all is JSON)."""
    if output_format is not None:
        return output_format == "csv"
    if not accept:
        return False
    return _quality(accept, "text/csv") > _quality(accept, "application/json")

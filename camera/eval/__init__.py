"""``ronda eval``: replay labelled footage through the pipeline and score what it alerted."""

"""The report: a run, its comparison and its history as markdown with SVG plots."""

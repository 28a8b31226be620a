"""`make bench`: how long each stage takes on a synthetic instance, against plain Pelican."""

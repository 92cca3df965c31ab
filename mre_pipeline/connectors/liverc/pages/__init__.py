"""One parser per LiveRC page type. Each takes the page text (and the ids carried from the URL) and
returns records, or raises PageFormatError naming the page, the URL and what was missing."""

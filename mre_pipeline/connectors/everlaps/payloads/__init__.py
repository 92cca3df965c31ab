"""Pure functions from decoded Everlaps JSON to the source-neutral records: the event card and results tree
(``event``), one heat (``heat``), the venue (``venue``), and the typed accessors they share (``common``)."""

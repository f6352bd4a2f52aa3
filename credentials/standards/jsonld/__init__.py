"""JSON-LD support: the bundled contexts and the strictly local document loader."""

"""Personal data: what a customer may ask about theirs, and what is kept for how long."""

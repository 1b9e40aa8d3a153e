"""Personal data: what is kept and for how long (retention), and the customer's consent to
the personal-data notice (issue 22)."""

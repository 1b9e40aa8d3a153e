"""Personal data (issue 22): what a customer may ask about theirs (deleting the cabinet,
exporting its data) and what is kept and for how long (retention). The consent to the
notice lives with registration (services.auth.consent)."""

"""What the customer is told outside the API: mail with a link to act on, and notices."""

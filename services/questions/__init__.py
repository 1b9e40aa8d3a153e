"""Questions to the company's specialists: asking, replying, answering, photos."""

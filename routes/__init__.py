"""The entry layer besides `server.py`: everything that is not the GraphQL transport.

`middleware` (request id, security headers, rate and body limits, the database-away
answer), `health` (probes and metrics), the receipt PDF (`receipts`), the electronic
receipt's link pages (`ereceipt`), photo uploads (`attachments`), the acquirers' webhook
(`payments`) and the sandbox acquirer's page (`sandbox`), the web client (`web`), and the
command line (`cli`). Nothing imports this package but `server.py`, tests and bench.
"""

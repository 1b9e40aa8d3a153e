"""Receipts (bills): the printable PDF, its payment QR, the signed download link, consumption
charts."""

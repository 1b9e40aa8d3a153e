"""Receipts: the printable bill, its QR code, the download route, consumption."""

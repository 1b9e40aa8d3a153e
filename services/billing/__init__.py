"""The billing system's exports: importing accounts, meters, readings, payments and receipts."""

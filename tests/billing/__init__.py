"""Importing the billing system's exports."""

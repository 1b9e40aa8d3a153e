"""Operator tools: demo data and the production readiness check."""

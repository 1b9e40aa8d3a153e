"""The electronic receipt: subscriptions and mailing each new bill as a PDF."""

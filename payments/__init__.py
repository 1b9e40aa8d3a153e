"""Online payments: the acquirers behind `payBill` (`payments.providers`), the webhook they
notify us on (`payments.webhook`), its signature (`payments.signing`) and the sweeper that
fails payments nobody confirmed (`services.payments.sweeper`). The rules - what a payment may do,
what a success records - live in `services.payments.rules`."""

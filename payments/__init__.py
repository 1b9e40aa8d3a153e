"""Online payments: the acquirers behind `payBill` (`payments.providers`) and the signature
of the webhook they notify us on (`payments.signing`); the webhook's endpoint and the
sandbox's pages are HTTP and live in `routes.payments` and `routes.sandbox`, the sweeper that
fails payments nobody confirmed in `services.payments.sweeper`. The rules - what a payment
may do, what a success records - live in `services.payments.rules`."""

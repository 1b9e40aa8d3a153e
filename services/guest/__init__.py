"""Without logging in, by the account number printed on the bill: paying (payAsGuest),
checking the payee (payableAccount) and sending meter readings
(submitGuestMeterReading), all counted against the guest limits (`limits`)."""

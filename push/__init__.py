"""Push notifications to the apps: the outbox (`push.outbox.queue`, in the transaction of
the change it announces), the wire to FCM and APNs (`push.transport`) and the worker that
delivers the outbox (`push.worker`). Called by the rules, never calling up."""

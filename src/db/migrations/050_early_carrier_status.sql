-- A carrier can call back with a message's status (delivered, undelivered, no answer)
-- before the worker that sent it has recorded the send: the provider answers the send, the
-- carrier calls back, and only then does the worker commit. The callback names our message
-- (the status callback URL carries its id); its status waits here and is applied when the
-- send is recorded.
ALTER TABLE messages ADD COLUMN early_carrier_status text
  CHECK (early_carrier_status IN ('delivered', 'undelivered', 'no_answer'));

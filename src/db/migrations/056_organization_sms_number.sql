-- An organization's own sender number for texts and calls (assigned by the operator with
-- `openlead sms-number`). Replies to it belong to that organization alone; organizations
-- without one send from the deployment's TWILIO_FROM and share the replies sent to it.
ALTER TABLE organizations ADD COLUMN sms_from text;
CREATE UNIQUE INDEX organizations_sms_from ON organizations (sms_from) WHERE sms_from IS NOT NULL;

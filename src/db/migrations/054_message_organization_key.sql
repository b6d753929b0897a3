-- As 041 did for the lead's log: every message written (a follow-up batch writes hundreds)
-- took a KEY SHARE lock on its organization's row through this foreign key, which every
-- concurrent dispatch, send and reply of that organization locks too, recorded as
-- multixacts. The message still references its lead, and the lead its organization.
ALTER TABLE messages DROP CONSTRAINT messages_organization_id_fkey;

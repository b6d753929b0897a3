-- API processes keep the principals of recently seen credentials in memory; any change to a
-- user row (role, API key, removal), by the API or by hand in SQL, tells every one of them
-- at commit to forget that user.
CREATE FUNCTION notify_user_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('openlead_user_changed', OLD.id);
  RETURN NULL;
END;
$$;

CREATE TRIGGER users_notify_changed
  AFTER UPDATE OR DELETE ON users
  FOR EACH ROW EXECUTE FUNCTION notify_user_changed();

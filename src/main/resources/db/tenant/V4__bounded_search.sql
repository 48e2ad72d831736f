-- Search that does bounded work however common a word is (conversations.SearchSql).

-- Candidates are the most recent matches: walked newest first through these indexes, a common word stops after a
-- few hundred rows instead of reading every match; a rare word still comes from the GIN index.
CREATE INDEX messages_recent ON messages (created_at, id);
CREATE INDEX conversations_recent ON conversations (created_at, id);

-- The query and snippet builders, with this database's text-search configuration written into them as a constant:
-- the planner folds search_query('...', '...') into a tsquery while planning, so it can estimate how common the
-- words are and choose between the recency walk and the GIN index. (Reading the configuration from tenant_settings
-- inside the query hid the words from the planner.) The configuration is the one this database was created with,
-- the one its generated tsvector columns use.
DO $$
DECLARE
  cfg text := (SELECT search_language::text FROM tenant_settings);
BEGIN
  EXECUTE format('CREATE FUNCTION search_query(words text, last_prefix text) RETURNS tsquery '
      'LANGUAGE sql IMMUTABLE PARALLEL SAFE AS %L',
      format('SELECT plainto_tsquery(%L::regconfig, words) && to_tsquery(%L::regconfig, last_prefix)', cfg, cfg));
  EXECUTE format('CREATE FUNCTION search_snippet(doc text, query tsquery) RETURNS text '
      'LANGUAGE sql IMMUTABLE PARALLEL SAFE AS %L',
      format('SELECT ts_headline(%L::regconfig, doc, query, %L)', cfg,
          'StartSel=<mark>, StopSel=</mark>, MaxWords=30, MinWords=12, MaxFragments=2'));
END $$;

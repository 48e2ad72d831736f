-- Search that does bounded work however common a word is (conversations.SearchSql).

-- Candidates are the most recent matches: walked newest first through these indexes, a common word stops after a
-- few hundred rows instead of reading every match; a rare word still comes from the GIN index.
CREATE INDEX messages_recent ON messages (created_at, id);
CREATE INDEX conversations_recent ON conversations (created_at, id);

-- No GIN pending list: with fastupdate (the default) new entries wait in an unsorted list, up to 4 MB, that every
-- search reads in full until a vacuum merges it. A message insert pays a little more instead.
ALTER INDEX messages_search SET (fastupdate = off);
ALTER INDEX conversations_title_search SET (fastupdate = off);
SELECT gin_clean_pending_list('messages_search'::regclass),
       gin_clean_pending_list('conversations_title_search'::regclass);

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
      format('SELECT CASE WHEN words = %L THEN to_tsquery(%2$L::regconfig, last_prefix) '
          'ELSE plainto_tsquery(%2$L::regconfig, words) && to_tsquery(%2$L::regconfig, last_prefix) END', '', cfg));
  EXECUTE format('CREATE FUNCTION search_snippet(doc text, query tsquery) RETURNS text '
      'LANGUAGE sql IMMUTABLE PARALLEL SAFE AS %L',
      format('SELECT ts_headline(%L::regconfig, doc, query, %L)', cfg,
          'StartSel=<mark>, StopSel=</mark>, MaxWords=30, MinWords=12, MaxFragments=2'));
END $$;

package io.claudememory.conversations;

/**
 * Full-text search over message content and conversation titles (tenant database).
 *
 * <p>Language: each tenant database is created with the text-search configuration of {@code search.language}
 * (default {@code english}), recorded in {@code tenant_settings}; the indexed {@code tsvector} columns are generated
 * with it (generated columns need a constant), and queries and snippets read it from there, so a tenant's queries
 * always stem as its index does even after the setting changes for new tenants.
 *
 * <p>The query is {@code plainto_tsquery($1) && to_tsquery($2)}: every word but the last must match (stemmed), the
 * last as a prefix. {@code $2} is {@code <word>:*} where the word holds only letters and digits (see
 * {@link SearchQuery}), so no user text ever reaches {@code to_tsquery} syntax. Hits are ranked with
 * {@code ts_rank}, paged by the keyset (rank, hit id), and only the page's rows get a {@code ts_headline} snippet.
 */
final class SearchSql {
  private SearchSql() {}

  static final String SEARCH = """
      WITH lang AS (SELECT search_language AS cfg FROM tenant_settings),
      q AS (SELECT lang.cfg, plainto_tsquery(lang.cfg, $1) && to_tsquery(lang.cfg, $2) AS query FROM lang),
      hits AS (
        SELECT m.id AS hit_id, m.conversation_id, m.id AS message_id, m.seq, c.title, m.content AS text,
               m.created_at, ts_rank(m.search, q.query) AS rank
        FROM messages m JOIN conversations c ON c.id = m.conversation_id CROSS JOIN q
        WHERE m.search @@ q.query
          AND ($3::uuid IS NULL OR c.project_id = $3)
          AND ($4::text IS NULL OR m.role = $4)
          AND ($5::timestamptz IS NULL OR m.created_at >= $5)
          AND ($6::timestamptz IS NULL OR m.created_at < $6)
        UNION ALL
        SELECT c.id, c.id, NULL, NULL, c.title, c.title, c.created_at, ts_rank(c.title_search, q.query)
        FROM conversations c CROSS JOIN q
        WHERE $4::text IS NULL AND c.title_search @@ q.query
          AND ($3::uuid IS NULL OR c.project_id = $3)
          AND ($5::timestamptz IS NULL OR c.created_at >= $5)
          AND ($6::timestamptz IS NULL OR c.created_at < $6)
      ),
      page AS (
        SELECT * FROM hits
        WHERE $7::real IS NULL OR rank < $7::real OR (rank = $7::real AND hit_id < $8::uuid)
        ORDER BY rank DESC, hit_id DESC LIMIT $9
      )
      SELECT page.*, ts_headline(q.cfg, page.text, q.query,
                                 'StartSel=<mark>, StopSel=</mark>, MaxWords=30, MinWords=12, MaxFragments=2')
             AS snippet
      FROM page CROSS JOIN q
      ORDER BY rank DESC, hit_id DESC""";
}

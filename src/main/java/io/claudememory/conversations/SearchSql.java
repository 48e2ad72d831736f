package io.claudememory.conversations;

import io.claudememory.platform.db.DbTarget;

/**
 * Full-text search over message content and conversation titles (tenant database), with bounded work.
 *
 * <p>Language: each tenant database is created with the text-search configuration of {@code search.language}
 * (default {@code english}); its generated {@code tsvector} columns and its {@code search_query} function (migration
 * V4) are built with it, so a tenant's queries always stem as its index does, even after the setting changes for new
 * tenants.
 *
 * <p>Matching: {@link #TERMS} turns the words into the tsquery {@code plainto_tsquery(words) && to_tsquery(last)}:
 * every word but the last must match (stemmed), the last as a prefix; {@code last} is {@code <word>:*} where the word
 * holds only letters and digits (see {@link SearchQuery}), so no user text ever reaches {@code to_tsquery} syntax.
 * {@link #SEARCH} takes that tsquery, as text, as {@code $1}: a constant to the planner, which can then estimate how
 * common the words are (inlining {@code search_query} in the search instead cost a third of its planning).
 *
 * <p>Filters: {@code $2} the ids of the project's conversations ({@link #PROJECT_CONVERSATIONS}), {@code $3} the
 * role (title hits are then left out), {@code $4}/{@code $5} the first and last instant; each null when not given.
 *
 * <p>Bounded work: ranking every match would read every matching row, thousands for a common word. Instead matches
 * are taken in <em>windows</em>: the {@code $10} most recent matches whose (created_at, id) is at or before the
 * window's first hit ({@code $6, $7}; none on the first page). Each source is walked newest first and stops after
 * {@code $10 + 1} matches, through the recency index for a common word or the GIN index for a rare one (the planner
 * chooses, seeing the words: the statement is {@linkplain DbTarget#PLANNED_PER_CALL planned per call}; a cached
 * generic plan cannot know whether the words are common, and reads every match). Only the window is ranked
 * ({@code ts_rank}, cheap); the page is its best hits after the keyset ({@code $8} rank, {@code $9} hit id), at
 * most {@code $11} rows, with their text: the node makes the snippets ({@link Snippets}). Every row also carries the
 * window's first hit and the next window's ({@code next_at, next_id}: the match after the window's last, null when
 * there is none); with no hit left in the window one row of nulls carries them.
 */
final class SearchSql {
  private SearchSql() {}

  /**
   * The query's tsquery as text ({@code $1} words but the last, {@code $2} the last as {@code <word>:*}), empty when
   * every word is a stop word, and the text-search configuration it was made with, for the snippets.
   */
  static final String TERMS = """
      SELECT search_query($1, $2)::text AS terms, (SELECT search_language::text FROM tenant_settings) AS language""";

  static final String SEARCH = DbTarget.PLANNED_PER_CALL + """
      WITH candidates AS (
        (SELECT m.id AS hit_id, m.conversation_id, m.id AS message_id, m.seq, m.created_at, m.content AS text,
                m.search AS vector
         FROM messages m
         WHERE m.search @@ $1::text::tsquery
           AND ($2::uuid[] IS NULL OR m.conversation_id = ANY ($2))
           AND ($3::text IS NULL OR m.role = $3)
           AND ($4::timestamptz IS NULL OR m.created_at >= $4)
           AND ($5::timestamptz IS NULL OR m.created_at <= $5)
           AND ($6::timestamptz IS NULL OR (m.created_at, m.id) <= ($6, $7::uuid))
         ORDER BY m.created_at DESC, m.id DESC
         LIMIT $10 + 1)
        UNION ALL
        (SELECT c.id, c.id, NULL, NULL, c.created_at, c.title, c.title_search
         FROM conversations c
         WHERE $3::text IS NULL AND c.title_search @@ $1::text::tsquery
           AND ($2::uuid[] IS NULL OR c.id = ANY ($2))
           AND ($4::timestamptz IS NULL OR c.created_at >= $4)
           AND ($5::timestamptz IS NULL OR c.created_at <= $5)
           AND ($6::timestamptz IS NULL OR (c.created_at, c.id) <= ($6, $7::uuid))
         ORDER BY c.created_at DESC, c.id DESC
         LIMIT $10 + 1)
      ),
      numbered AS (
        SELECT *, row_number() OVER (ORDER BY created_at DESC, hit_id DESC) AS n FROM candidates
      ),
      page AS (
        SELECT hit_id, conversation_id, message_id, seq, created_at, text, rank
        FROM (SELECT *, ts_rank(vector, $1::text::tsquery) AS rank FROM numbered WHERE n <= $10) window_hits
        WHERE $8::real IS NULL OR rank < $8 OR (rank = $8 AND hit_id < $9::uuid)
        ORDER BY rank DESC, hit_id DESC
        LIMIT $11
      ),
      bounds AS (
        SELECT first.created_at AS window_at, first.hit_id AS window_id, next.created_at AS next_at,
               next.hit_id AS next_id
        FROM (VALUES (1)) one (x)
        LEFT JOIN numbered first ON first.n = 1
        LEFT JOIN numbered next ON next.n = $10 + 1
      )
      SELECT page.*, (SELECT c.title FROM conversations c WHERE c.id = page.conversation_id) AS title, bounds.*
      FROM bounds LEFT JOIN page ON true
      ORDER BY page.rank DESC, page.hit_id DESC""";

  /**
   * The conversations of one of the caller's projects (no row: no such project). A project filter is given to
   * {@link #SEARCH} as this list of ids, a constant the planner can count: a join to the project's conversations let
   * it repeat the GIN scan of a common word once per conversation of a small project (tens of milliseconds for 20
   * conversations among 100,000 messages), or read every match of the word for a middling one.
   */
  static final String PROJECT_CONVERSATIONS = """
      SELECT coalesce(array_agg(c.id) FILTER (WHERE c.id IS NOT NULL), '{}') AS conversations
      FROM projects p LEFT JOIN conversations c ON c.project_id = p.id
      WHERE p.id = $1
      GROUP BY p.id""";
}

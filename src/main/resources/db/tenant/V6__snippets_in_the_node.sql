-- Search snippets are built by the node (conversations.Snippets), HTML-escaped: ts_headline returned message text
-- unescaped beside its <mark> tags, and parsed every hit's whole text again in the database.
DROP FUNCTION search_snippet(text, tsquery);

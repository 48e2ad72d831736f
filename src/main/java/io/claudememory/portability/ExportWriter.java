package io.claudememory.portability;

import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.io.BufferedWriter;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import java.util.Locale;
import java.util.UUID;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Writes one export's entries into a ZIP from cursors over the tenant database (docs/export-format.md): the native
 * bundle (JSON lines, full fidelity), Markdown (a file per conversation, its current branch) or CSV. Blocking.
 */
final class ExportWriter {
  static final String FORMAT = "claude-memory-backend.export";
  static final int VERSION = 1;

  /** Called after every row written, for progress reports. */
  interface Progress {
    void row() throws Exception;
  }

  private final SqlConnection conn;
  private final ZipOutputStream zip;
  private final Tuple scope;
  private final Progress progress;

  ExportWriter(SqlConnection conn, ZipOutputStream zip, UUID projectId, UUID conversationId, Progress progress) {
    this.conn = conn;
    this.zip = zip;
    this.scope = Tuple.of(projectId, conversationId);
    this.progress = progress;
  }

  /** Native bundle: manifest.json, then projects, conversations and messages as JSON lines. */
  JsonObject nativeBundle(JsonObject manifest) throws Exception {
    long projects = lines("projects.jsonl", ExportSql.PROJECTS);
    long conversations = lines("conversations.jsonl", ExportSql.CONVERSATIONS_JSON);
    long messages = lines("messages.jsonl", ExportSql.MESSAGES_JSON);
    JsonObject counts = new JsonObject().put("projects", projects).put("conversations", conversations)
        .put("messages", messages);
    zip.putNextEntry(new ZipEntry("manifest.json"));
    zip.write(manifest.put("format", FORMAT).put("version", VERSION).put("counts", counts).encodePrettily()
        .getBytes(StandardCharsets.UTF_8));
    zip.closeEntry();
    return counts;
  }

  private long lines(String name, String sql) throws Exception {
    zip.putNextEntry(new ZipEntry(name));
    Writer out = writer();
    long n = RowStream.forEach(conn, sql, scope, row -> {
      out.write(row.getString("line"));
      out.write('\n');
      progress.row();
    });
    out.flush();
    zip.closeEntry();
    return n;
  }

  /** CSV (RFC 4180): conversations.csv and messages.csv (every branch; parentId tells them apart). */
  JsonObject csv() throws Exception {
    zip.putNextEntry(new ZipEntry("conversations.csv"));
    Writer out = writer();
    out.write("id,projectId,projectName,title,model,tags,pinned,archived,messageCount,currentLeafId,createdAt,"
        + "updatedAt,lastActivityAt\r\n");
    long conversations = RowStream.forEach(conn, ExportSql.CONVERSATIONS, scope, row -> {
      csvLine(out, row.getUUID("id"), row.getUUID("project_id"), row.getString("project_name"),
          row.getString("title"), row.getString("model"), String.join(";", row.getArrayOfStrings("tags")),
          row.getBoolean("pinned"), row.getBoolean("archived"), row.getInteger("message_count"),
          row.getUUID("current_leaf_id"), time(row, "created_at"), time(row, "updated_at"),
          time(row, "last_activity_at"));
      progress.row();
    });
    out.flush();
    zip.closeEntry();
    zip.putNextEntry(new ZipEntry("messages.csv"));
    out.write("id,conversationId,parentId,seq,role,content,model,stopReason,inputTokens,outputTokens,createdAt\r\n");
    long messages = RowStream.forEach(conn, ExportSql.MESSAGES_CSV, scope, row -> {
      csvLine(out, row.getUUID("id"), row.getUUID("conversation_id"), row.getUUID("parent_id"), row.getLong("seq"),
          row.getString("role"), row.getString("content"), row.getString("model"), row.getString("stop_reason"),
          row.getString("input_tokens"), row.getString("output_tokens"), time(row, "created_at"));
      progress.row();
    });
    out.flush();
    zip.closeEntry();
    return new JsonObject().put("conversations", conversations).put("messages", messages);
  }

  /** Markdown: one file per conversation with its current branch; the other branches are noted at the end. */
  JsonObject markdown() throws Exception {
    long[] messages = {0};
    long conversations = RowStream.forEach(conn, ExportSql.CONVERSATIONS, scope, c -> {
      UUID id = c.getUUID("id");
      String title = c.getString("title") == null ? "Untitled conversation" : c.getString("title");
      zip.putNextEntry(new ZipEntry("conversations/" + c.getOffsetDateTime("created_at").toLocalDate() + "-"
          + slug(title) + "-" + id.toString().substring(0, 8) + ".md"));
      Writer out = writer();
      out.write("# " + title.replace("\n", " ") + "\n\n");
      out.write("- Conversation: `" + id + "`\n");
      if (c.getString("project_name") != null) {
        out.write("- Project: " + c.getString("project_name") + "\n");
      }
      out.write("- Created: " + time(c, "created_at") + "\n");
      if (c.getString("model") != null) {
        out.write("- Model: " + c.getString("model") + "\n");
      }
      if (c.getString("summary") != null) {
        out.write("\n> Summary: " + c.getString("summary").replace("\n", "\n> ") + "\n");
      }
      UUID[] leaf = {null};
      RowStream.forEach(conn, ExportSql.CURRENT_BRANCH, Tuple.of(id), m -> {
        out.write("\n## " + ("user".equals(m.getString("role")) ? "User" : "assistant".equals(m.getString("role"))
            ? "Assistant" : "System") + " · " + time(m, "created_at")
            + (m.getString("model") == null ? "" : " · " + m.getString("model")) + "\n\n");
        out.write(m.getString("content"));
        out.write("\n");
        leaf[0] = m.getUUID("id");
        messages[0]++;
        progress.row();
      });
      StringBuilder others = new StringBuilder();
      long branches = RowStream.forEach(conn, ExportSql.OTHER_LEAVES, Tuple.of(id, leaf[0]), l -> others
          .append("- a branch ending at message `").append(l.getUUID("id")).append("` (seq ")
          .append(l.getLong("seq")).append(", ").append(time(l, "created_at")).append(")\n"));
      if (branches > 0) {
        out.write("\n---\n\n_Other branches of this conversation, not shown here (the native JSON export keeps "
            + "them all):_\n\n" + others);
      }
      out.flush();
      zip.closeEntry();
    });
    return new JsonObject().put("conversations", conversations).put("messages", messages[0]);
  }

  private Writer writer() {
    return new BufferedWriter(new OutputStreamWriter(new FilterOutputStream(zip) {
      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        out.write(b, off, len);
      }

      @Override
      public void close() {
        // the ZIP stays open: entries are closed with closeEntry
      }
    }, StandardCharsets.UTF_8), 64 * 1024);
  }

  static String slug(String title) {
    String slug = title.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("(^-+|-+$)", "");
    slug = slug.length() > 50 ? slug.substring(0, 50) : slug;
    return slug.isEmpty() ? "conversation" : slug;
  }

  private static String time(Row row, String column) {
    OffsetDateTime time = row.getOffsetDateTime(column);
    return time == null ? "" : time.toInstant().toString();
  }

  static void csvLine(Writer out, Object... values) throws IOException {
    for (int i = 0; i < values.length; i++) {
      if (i > 0) {
        out.write(',');
      }
      String text = values[i] == null ? "" : values[i].toString();
      if (text.indexOf(',') >= 0 || text.indexOf('"') >= 0 || text.indexOf('\n') >= 0 || text.indexOf('\r') >= 0) {
        out.write('"');
        out.write(text.replace("\"", "\"\""));
        out.write('"');
      } else {
        out.write(text);
      }
    }
    out.write("\r\n");
  }
}

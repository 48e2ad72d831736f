package io.claudememory.claude;

import io.claudememory.config.AppConfig;
import io.claudememory.platform.EventAddresses;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Tuple;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What follows a persisted answer, in the background: the token estimate learns from the usage; the conversation
 * gets a title after its first answer (unless the user set one), announced to the room as {@code conversation.updated}
 * and, like any change to a conversation, audited with its webhook event in the same transaction; and turns
 * that no longer fit the context are folded into the rolling summary. History is never altered, and a failed title
 * or summary changes nothing (logged only).
 */
final class Afterwards {
  private static final Logger LOG = LoggerFactory.getLogger(Afterwards.class);
  private static final String TITLE_PROMPT = "Write a short title (at most 6 words) for the conversation below. "
      + "Answer with the title only: no quotes, no punctuation at the end.";
  private static final String SUMMARY_PROMPT = "You keep the running summary of a long conversation between a user "
      + "and an assistant. Update the summary with the new turns: keep facts, decisions, names, numbers, open "
      + "questions and the user's preferences; drop pleasantries. Answer with the updated summary only.";
  private final Generations owner;
  private final AppConfig.Claude config;
  private final Set<UUID> summarising = ConcurrentHashMap.newKeySet();

  Afterwards(Generations owner, AppConfig.Claude config) {
    this.owner = owner;
    this.config = config;
  }

  void run(Generation generation, ContextAssembler.Assembled assembled, JsonObject message, JsonObject usage) {
    if (usage != null) {
      long input = usage.getLong("input_tokens", 0L) + usage.getLong("cache_creation_input_tokens", 0L)
          + usage.getLong("cache_read_input_tokens", 0L);
      owner.tokens.observe(assembled.model(), assembled.requestChars(), input);
    }
    if (config.titles() && assembled.title() == null) {
      title(generation, assembled, message);
    }
    if (config.summaries() && assembled.needsSummary() && summarising.add(generation.conversationId)) {
      summarise(generation, assembled).onComplete(done -> summarising.remove(generation.conversationId));
    }
  }

  private void title(Generation generation, ContextAssembler.Assembled assembled, JsonObject answer) {
    JsonArray messages = assembled.request().getJsonArray("messages");
    String question = lastText(messages.getJsonObject(messages.size() - 1));
    String excerpt = "User: " + cut(question, 1500) + "\n\nAssistant: " + cut(answer.getString("content"), 1500);
    JsonObject request = new JsonObject().put("model", config.titleModel()).put("max_tokens", 30)
        .put("task", "title").put("system", TITLE_PROMPT)
        .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", excerpt)));
    owner.provider.complete(request).compose(text -> {
      String title = cleanTitle(text);
      if (title.isEmpty()) {
        return Future.succeededFuture();
      }
      UUID id = generation.conversationId;
      return owner.pools.withPool(generation.tenant, pool -> owner.changes.transaction(generation.tenant, pool,
          conn -> conn.preparedQuery(ClaudeSql.SET_TITLE).execute(Tuple.of(id, title)).compose(rows -> {
            if (rows.size() == 0) {
              return Future.succeededFuture(false);
            }
            JsonObject changed = new JsonObject().put("id", id.toString()).put("title", title)
                .put("updatedAt", rows.iterator().next().getOffsetDateTime(0).toInstant().toString());
            return owner.changes.record(conn, "conversation.updated", "conversation", id, changed).map(true);
          })))
          .map(changed -> {
            if (changed) {
              owner.events.publishAssistant(generation.tenant, id, "conversation.updated",
                  new JsonObject().put("conversation", new JsonObject().put("id", id.toString()).put("title", title)));
            }
            return null;
          });
    }).onFailure(err -> LOG.info("no title for conversation {}: {}", generation.conversationId, err.getMessage()));
  }

  private Future<Void> summarise(Generation generation, ContextAssembler.Assembled assembled) {
    long from = assembled.summaryThroughSeq() == null ? 0 : assembled.summaryThroughSeq();
    long through = assembled.omittedThroughSeq();
    return owner.pools.withPool(generation.tenant, pool -> pool.preparedQuery(ClaudeSql.TURNS_TO_SUMMARISE)
        .execute(Tuple.of(generation.userMessageId, generation.conversationId, from, through))
        .compose(rows -> {
          StringBuilder turns = new StringBuilder();
          rows.forEach(r -> turns.append("user".equals(r.getString("role")) ? "User: " : "Assistant: ")
              .append(cut(r.getString("content"), 4000)).append("\n\n"));
          String previous = assembled.summary() == null ? "(none yet)" : assembled.summary();
          JsonObject request = new JsonObject().put("model", config.summaryModel()).put("max_tokens", 1024)
              .put("task", "summary").put("system", SUMMARY_PROMPT)
              .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content",
                  "Summary so far:\n" + previous + "\n\nNew turns:\n" + turns + "Write the updated summary.")));
          return owner.provider.complete(request);
        })
        .compose(summary -> summary.isBlank() ? Future.succeededFuture()
            : pool.preparedQuery(ClaudeSql.SET_SUMMARY).execute(Tuple.of(generation.conversationId, summary.trim(),
                through)).mapEmpty()))
        .<Void>mapEmpty()
        .onFailure(err -> LOG.info("summary of conversation {} not updated: {}", generation.conversationId,
            err.getMessage()));
  }

  private static String lastText(JsonObject message) {
    JsonArray content = message.getJsonArray("content");
    return content.getJsonObject(content.size() - 1).getString("text", "");
  }

  static String cleanTitle(String text) {
    String line = text.strip().lines().findFirst().orElse("").strip();
    line = line.replaceAll("^(?i)title:\\s*", "").replaceAll("^[\"'“”‘’]+|[\"'“”‘’.]+$", "").strip();
    return line.length() > 80 ? line.substring(0, 80).strip() : line;
  }

  private static String cut(String text, int max) {
    return text == null ? "" : text.length() <= max ? text : text.substring(0, max) + "…";
  }
}

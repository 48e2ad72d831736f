package io.claudememory.claude;

import io.claudememory.config.AppConfig;
import io.claudememory.platform.http.ApiException;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Builds the exact Messages API request for an answer to a user message — what makes this a memory backend.
 *
 * <p>Order (the documented order, stable prefixes first so prompt caching works, protocols.md §1.6):
 * <ol>
 *   <li>{@code system[]}: the project's instructions, then the conversation's system prompt — the last of these
 *       carries {@code cache_control: ephemeral};</li>
 *   <li>{@code system[]}: the rolling summary of the turns left out (when turns were left out and a summary exists),
 *       also marked, as it changes only when re-summarised;</li>
 *   <li>{@code messages[]}: the newest turns of the branch ending at the user message that fit the model's context
 *       budget (older ones are left out whole; a leading assistant turn is dropped so the list starts with the user);
 *       the turn before the new message carries a cache marker, so the history prefix is cached;</li>
 *   <li>the new user message, whose content starts with the recalled passages (best matches by full-text search from
 *       the user's other conversations of the same project, each with date and conversation title) — placed last
 *       because they change with every message and would otherwise invalidate every cached prefix.</li>
 * </ol>
 * Budget: context window of the model − {@code max_tokens} − the estimated system and recall tokens − 5% margin.
 */
public final class ContextAssembler {
  private static final int MAX_BRANCH = 2000;
  private static final JsonObject EPHEMERAL = new JsonObject().put("type", "ephemeral");
  private final AppConfig.Claude config;
  private final TokenEstimator tokens;

  public ContextAssembler(AppConfig.Claude config, TokenEstimator tokens) {
    this.config = config;
    this.tokens = tokens;
  }

  /** A message of the branch. */
  public record Turn(UUID id, long seq, String role, String content, OffsetDateTime createdAt) {}

  /**
   * The assembled request and what went into it: {@code estimatedTokens} of the whole request, the turns kept and
   * left out, and {@code unsummarised}: the highest seq left out, when the summary does not cover it yet.
   */
  public record Assembled(JsonObject request, String model, String title, UUID projectId, long estimatedTokens,
      long requestChars, int budget, int keptTurns, int omittedTurns, Long omittedThroughSeq, boolean summaryUsed,
      Long summaryThroughSeq, String summary, int recalled, UUID leafId) {

    public boolean needsSummary() {
      return omittedThroughSeq != null && (summaryThroughSeq == null || summaryThroughSeq < omittedThroughSeq);
    }
  }

  /**
   * The request answering {@code leafId} (normally a user message; null: the conversation's current leaf) in
   * {@code conversationId}. {@code options}: {@code model?}, {@code maxTokens?}, and {@code draft?}, the text of a
   * message not yet sent, appended as the newest user turn (for previews).
   */
  public Future<Assembled> assemble(Pool pool, UUID tenant, UUID conversationId, UUID leafId, JsonObject options) {
    return pool.preparedQuery(ClaudeSql.CONVERSATION).execute(Tuple.of(conversationId)).compose(rows -> {
      if (rows.size() == 0) {
        return Future.failedFuture(ApiException.notFound("The conversation"));
      }
      Row conv = rows.iterator().next();
      UUID leaf = leafId != null ? leafId : conv.getUUID("current_leaf_id");
      Future<List<Turn>> branch = leaf == null ? Future.succeededFuture(List.of()) : branch(pool, conversationId, leaf);
      String draft = options.getString("draft");
      if (draft != null && !draft.isBlank()) {
        // A preview of the request a new message would make: the draft is the newest turn, stored nowhere.
        branch = branch.map(turns -> {
          List<Turn> withDraft = new ArrayList<>(turns);
          withDraft.add(0, new Turn(null, Long.MAX_VALUE, "user", draft, null));
          return withDraft;
        });
      }
      return branch.compose(turns -> recall(pool, conv, turns).map(passages ->
          build(tenant, conv, leaf, turns, passages, options)));
    });
  }

  private Future<List<Turn>> branch(Pool pool, UUID conversationId, UUID leaf) {
    return pool.preparedQuery(ClaudeSql.BRANCH).execute(Tuple.of(leaf, conversationId, MAX_BRANCH)).map(rows -> {
      List<Turn> turns = new ArrayList<>();
      rows.forEach(r -> turns.add(new Turn(r.getUUID("id"), r.getLong("seq"), r.getString("role"),
          r.getString("content"), r.getOffsetDateTime("created_at"))));
      return turns; // newest first
    });
  }

  private Future<List<Row>> recall(Pool pool, Row conv, List<Turn> newestFirst) {
    String query = newestFirst.stream().filter(t -> "user".equals(t.role())).map(Turn::content).findFirst()
        .orElse(null);
    if (query == null || config.recallPassages() == 0) {
      return Future.succeededFuture(List.of());
    }
    return pool.preparedQuery(ClaudeSql.RECALL).execute(Tuple.of(query, conv.getUUID("id"),
        conv.getUUID("project_id"), config.recallPassages())).map(rows -> {
          List<Row> list = new ArrayList<>();
          rows.forEach(list::add);
          return list;
        });
  }

  private Assembled build(UUID tenant, Row conv, UUID leaf, List<Turn> newestFirst, List<Row> passages,
      JsonObject options) {
    String model = firstNonBlank(options.getString("model"), conv.getString("model"), config.model());
    int maxTokens = options.getInteger("maxTokens", config.maxTokens());
    JsonArray system = new JsonArray();
    addText(system, conv.getString("instructions"));
    addText(system, conv.getString("system_prompt"));
    markLast(system);
    String recall = recallText(passages);
    long fixedChars = chars(system) + recall.length() + (conv.getString("summary") == null ? 0
        : conv.getString("summary").length() + 64);
    int budget = (int) (config.contextTokensOf(model) * 0.95) - maxTokens - tokens.estimate(model, fixedChars);

    List<Turn> kept = new ArrayList<>();
    long used = 0;
    for (Turn turn : newestFirst) {
      if (turn.content() == null || turn.content().isBlank()) {
        continue; // an answer cancelled before its first word: nothing to send
      }
      long cost = tokens.estimate(model, turn.content().length() + 16);
      if (!kept.isEmpty() && used + cost > budget) {
        break;
      }
      kept.add(0, turn);
      used += cost;
    }
    while (kept.size() > 1 && !"user".equals(kept.get(0).role())) {
      kept.remove(0);
    }
    long firstKept = kept.isEmpty() ? Long.MIN_VALUE : kept.get(0).seq();
    int omitted = (int) newestFirst.stream().filter(t -> t.seq() < firstKept).count();
    Long omittedThrough = omitted == 0 ? null : newestFirst.stream().filter(t -> t.seq() < firstKept)
        .mapToLong(Turn::seq).max().orElse(0);
    String summary = conv.getString("summary");
    boolean summaryUsed = omitted > 0 && summary != null && !summary.isBlank();
    if (summaryUsed) {
      system.add(new JsonObject().put("type", "text").put("text", "<conversation_summary>\nSummary of the earlier "
          + "part of this conversation, which is not repeated below:\n" + summary + "\n</conversation_summary>")
          .put("cache_control", EPHEMERAL));
    }

    JsonArray messages = new JsonArray();
    for (int i = 0; i < kept.size(); i++) {
      Turn turn = kept.get(i);
      boolean last = i == kept.size() - 1;
      JsonArray content = new JsonArray();
      if (last && !recall.isEmpty() && "user".equals(turn.role())) {
        content.add(new JsonObject().put("type", "text").put("text", recall));
      }
      JsonObject block = new JsonObject().put("type", "text").put("text", turn.content());
      if (i == kept.size() - 2) {
        block.put("cache_control", EPHEMERAL);
      }
      content.add(block);
      messages.add(new JsonObject().put("role", turn.role()).put("content", content));
    }
    JsonObject request = new JsonObject().put("model", model).put("max_tokens", maxTokens);
    if (!system.isEmpty()) {
      request.put("system", system);
    }
    request.put("messages", messages).put("metadata", new JsonObject().put("user_id", tenant.toString()));
    long requestChars = chars(system) + chars(messages);
    Long summaryThrough = conv.getLong("summary_through_seq");
    return new Assembled(request, model, conv.getString("title"), conv.getUUID("project_id"),
        tokens.estimate(model, requestChars), requestChars, budget, kept.size(), omitted, omittedThrough, summaryUsed,
        summaryThrough, summary, passages.size(), leaf);
  }

  private String recallText(List<Row> passages) {
    if (passages.isEmpty()) {
      return "";
    }
    StringBuilder text = new StringBuilder("<recalled_memory>\nPassages from the user's other conversations in this "
        + "project that may be relevant, most relevant first:\n");
    for (Row passage : passages) {
      String content = passage.getString("content");
      if (content.length() > config.recallChars()) {
        content = content.substring(0, config.recallChars()) + "…";
      }
      String title = passage.getString("title") == null ? "Untitled" : passage.getString("title").replace('"', '\'');
      text.append("<passage conversation=\"").append(title).append("\" date=\"")
          .append(passage.getOffsetDateTime("created_at").toLocalDate()).append("\">\n").append(content)
          .append("\n</passage>\n");
    }
    return text.append("</recalled_memory>").toString();
  }

  private static void addText(JsonArray system, String text) {
    if (text != null && !text.isBlank()) {
      system.add(new JsonObject().put("type", "text").put("text", text));
    }
  }

  private static void markLast(JsonArray blocks) {
    if (!blocks.isEmpty()) {
      blocks.getJsonObject(blocks.size() - 1).put("cache_control", EPHEMERAL);
    }
  }

  private static long chars(JsonArray blocks) {
    long total = 0;
    for (Object item : blocks) {
      JsonObject block = (JsonObject) item;
      if (block.getValue("content") instanceof JsonArray nested) {
        total += chars(nested) + 8;
      } else {
        total += block.getString("text", "").length();
      }
    }
    return total;
  }

  private static String firstNonBlank(String... values) {
    for (String value : values) {
      if (value != null && !value.isBlank()) {
        return value;
      }
    }
    return null;
  }
}

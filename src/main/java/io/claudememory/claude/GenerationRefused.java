package io.claudememory.claude;

import io.claudememory.platform.http.ApiException;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * A generation that was not started, and why: {@code code} is stable for clients, {@link #status()} the HTTP status
 * it maps to (503 no provider, 429 limits and budget, 404 unknown message, 409 not a user message). Being an
 * {@link ApiException}, the failure handler turns it into a problem as is.
 */
public final class GenerationRefused extends ApiException {
  private final String code;

  public GenerationRefused(int status, String code, String reason, Integer retryAfterSeconds) {
    super(status, titleOf(status), reason, List.of(), retryAfterSeconds == null ? null : retryAfterSeconds.toString());
    this.code = code;
  }

  public String code() {
    return code;
  }

  public static GenerationRefused noProvider() {
    return new GenerationRefused(503, "no_provider", "No Claude provider is configured. Set ANTHROPIC_API_KEY (and "
        + "ANTHROPIC_BASE_URL if not the public API) to use the Anthropic Messages API, or N8N_WEBHOOK_URL to use an "
        + "n8n workflow; CLAUDE_PROVIDER=anthropic|n8n chooses explicitly.", null);
  }

  /** The event-bus reply for this refusal. */
  public JsonObject toReply() {
    return new JsonObject().put("accepted", false).put("status", status()).put("code", code)
        .put("reason", getMessage()).put("retryAfter", retryAfter());
  }

  public static GenerationRefused fromReply(JsonObject reply) {
    String retryAfter = reply.getString("retryAfter");
    return new GenerationRefused(reply.getInteger("status", 500), reply.getString("code", "refused"),
        reply.getString("reason", ""), retryAfter == null ? null : Integer.valueOf(retryAfter));
  }

  private static String titleOf(int status) {
    return switch (status) {
      case 404 -> "Not Found";
      case 409 -> "Conflict";
      case 429 -> "Too Many Requests";
      case 503 -> "Service Unavailable";
      default -> "Generation refused";
    };
  }
}

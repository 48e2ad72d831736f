package io.claudememory.claude;

/**
 * How much an upstream (the Messages API, an n8n workflow) may send us. Their answers are not trusted to be what the
 * protocol promises (protocols.md §6.3, API10): a broken or hostile upstream that sends without end is cut off with an
 * error instead of filling memory or the database.
 */
final class UpstreamLimits {
  /** A whole non-streamed answer (a title, a summary, an n8n reply) or an error body. */
  static final long MAX_BODY_BYTES = 8L * 1024 * 1024;
  /** One SSE line or event: the API's events are deltas and small envelopes, a few KiB at most. */
  static final int MAX_EVENT_BYTES = 1024 * 1024;

  private UpstreamLimits() {}

  /**
   * The text (and tool input, and thinking) one streamed answer may add up to: {@code max_tokens} tokens of at most
   * 64 characters each, and never less than 1 MiB, so that no real answer comes near it.
   */
  static long maxAnswerChars(int maxTokens) {
    return Math.max(1L << 20, maxTokens * 64L);
  }
}

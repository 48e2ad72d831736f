package io.claudememory.claude;

import io.vertx.core.buffer.Buffer;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.function.BiConsumer;

/**
 * Incremental parser of a {@code text/event-stream} (WHATWG SSE): fed chunks as they arrive, split anywhere (even
 * inside a UTF-8 character), it calls back once per complete event with its {@code event:} name and joined
 * {@code data:} lines. Comments ({@code :...}), {@code id:} and {@code retry:} are ignored. A line or an event longer
 * than the limit makes {@link #feed} throw {@link TooLarge}: the stream comes from a server we do not control, and
 * one that never sends a newline must not grow our memory without end. Not thread-safe: one parser per response,
 * fed from its context.
 */
public final class SseParser {
  /** A line or an event passed the limit. */
  public static final class TooLarge extends IllegalStateException {
    TooLarge(int limit) {
      super("an event-stream line or event is longer than " + limit + " bytes");
    }
  }

  private final BiConsumer<String, String> onEvent;
  private final int maxEventBytes;
  private final ByteArrayOutputStream partialLine = new ByteArrayOutputStream(256);
  private final StringBuilder data = new StringBuilder();
  private String event;
  private boolean hasData;

  public SseParser(BiConsumer<String, String> onEvent) {
    this(onEvent, Integer.MAX_VALUE);
  }

  public SseParser(BiConsumer<String, String> onEvent, int maxEventBytes) {
    this.onEvent = onEvent;
    this.maxEventBytes = maxEventBytes;
  }

  public void feed(Buffer chunk) {
    byte[] bytes = chunk.getBytes();
    int start = 0;
    for (int i = 0; i < bytes.length; i++) {
      if (bytes[i] == '\n') {
        partialLine.write(bytes, start, i - start);
        line(partialLine.toString(StandardCharsets.UTF_8));
        partialLine.reset();
        start = i + 1;
      }
    }
    partialLine.write(bytes, start, bytes.length - start);
    if (partialLine.size() > maxEventBytes) {
      throw new TooLarge(maxEventBytes);
    }
  }

  private void line(String raw) {
    String line = raw.endsWith("\r") ? raw.substring(0, raw.length() - 1) : raw;
    if (line.isEmpty()) {
      dispatch();
      return;
    }
    if (line.charAt(0) == ':') {
      return;
    }
    int colon = line.indexOf(':');
    String field = colon < 0 ? line : line.substring(0, colon);
    String value = colon < 0 ? "" : line.substring(colon + 1);
    if (value.startsWith(" ")) {
      value = value.substring(1);
    }
    if (field.equals("event")) {
      event = value;
    } else if (field.equals("data")) {
      if (hasData) {
        data.append('\n');
      }
      data.append(value);
      hasData = true;
      if (data.length() > maxEventBytes) {
        throw new TooLarge(maxEventBytes);
      }
    }
  }

  private void dispatch() {
    if (hasData) {
      onEvent.accept(event == null ? "message" : event, data.toString());
    }
    event = null;
    data.setLength(0);
    hasData = false;
  }
}

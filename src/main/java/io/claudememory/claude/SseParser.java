package io.claudememory.claude;

import io.vertx.core.buffer.Buffer;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.function.BiConsumer;

/**
 * Incremental parser of a {@code text/event-stream} (WHATWG SSE): fed chunks as they arrive, split anywhere (even
 * inside a UTF-8 character), it calls back once per complete event with its {@code event:} name and joined
 * {@code data:} lines. Comments ({@code :...}), {@code id:} and {@code retry:} are ignored. Not thread-safe: one
 * parser per response, fed from its context.
 */
public final class SseParser {
  private final BiConsumer<String, String> onEvent;
  private final ByteArrayOutputStream partialLine = new ByteArrayOutputStream(256);
  private final StringBuilder data = new StringBuilder();
  private String event;
  private boolean hasData;

  public SseParser(BiConsumer<String, String> onEvent) {
    this.onEvent = onEvent;
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

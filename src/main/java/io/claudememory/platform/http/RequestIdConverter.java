package io.claudememory.platform.http;

import ch.qos.logback.classic.pattern.ClassicConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;

/** Logback conversion word {@code %rid}: the id of the request being handled, or "-". */
public final class RequestIdConverter extends ClassicConverter {
  @Override
  public String convert(ILoggingEvent event) {
    String id = RequestIds.current();
    return id == null ? "-" : id;
  }
}

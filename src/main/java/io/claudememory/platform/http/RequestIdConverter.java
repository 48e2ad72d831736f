package io.claudememory.platform.http;

import ch.qos.logback.classic.pattern.ClassicConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;

/**
 * Logback conversion word {@code %rid}: the id of the request the line is about (named with
 * {@link RequestIds#logging}), else of the request being handled on the current context, else "-".
 */
public final class RequestIdConverter extends ClassicConverter {
  @Override
  public String convert(ILoggingEvent event) {
    String id = event.getMDCPropertyMap().get(RequestIds.MDC_KEY);
    if (id == null) {
      id = RequestIds.current();
    }
    return id == null ? "-" : id;
  }
}

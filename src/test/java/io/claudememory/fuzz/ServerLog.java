package io.claudememory.fuzz;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Pattern;
import org.slf4j.LoggerFactory;

/**
 * Watches the node's log while it is fuzzed: an answer can be fine while something behind it broke (a background
 * job, a webhook drain, a socket handler). Every ERROR, and every WARN not listed in {@link #EXPECTED} with its reason,
 * is a failure. A blocked event loop is a WARN of Vert.x's checker, so it fails the run too.
 */
final class ServerLog extends AppenderBase<ILoggingEvent> {
  /** Warnings the fuzzer causes on purpose, by logger and message: each with why it is expected. */
  private static final Map<Pattern, String> EXPECTED = Map.of(
      Pattern.compile("^org\\.flywaydb\\..*: Connection error: FATAL: database \"" + Fixtures.ABSENT_DATABASE),
      "activating the added database starts a copy job that cannot reach it: the job fails, as it should",
      Pattern.compile("^io\\.claudememory\\.database\\.DatabaseCopy: .* failed: .*database \""
          + Fixtures.ABSENT_DATABASE),
      "the same copy job, saying why it failed",
      Pattern.compile("^io\\.vertx\\.sqlclient\\..*: Backend notice: "),
      "PostgreSQL notices (e.g. a word too long to be indexed) are information, logged by the client");
  private final List<String> unexpected = new CopyOnWriteArrayList<>();
  private Logger root;

  void attach() {
    root = (Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME);
    setContext(root.getLoggerContext());
    start();
    root.addAppender(this);
  }

  void detach() {
    root.detachAppender(this);
    stop();
  }

  @Override
  protected void append(ILoggingEvent event) {
    if (!event.getLevel().isGreaterOrEqual(Level.WARN)) {
      return;
    }
    String line = event.getLoggerName() + ": " + event.getFormattedMessage()
        + (event.getThrowableProxy() == null ? "" : " (" + event.getThrowableProxy().getClassName() + ": "
        + event.getThrowableProxy().getMessage() + ")");
    boolean expected = event.getLevel() == Level.WARN
        && EXPECTED.keySet().stream().anyMatch(p -> p.matcher(line).find());
    if (!expected) {
      unexpected.add(FuzzCase.abbreviate(line, 600));
    }
  }

  /** Unexpected lines logged since {@code from} (a count {@link #size} gave), then the new size. */
  List<String> since(int from) {
    return List.copyOf(unexpected.subList(from, unexpected.size()));
  }

  int size() {
    return unexpected.size();
  }
}

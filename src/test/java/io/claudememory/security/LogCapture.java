package io.claudememory.security;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.PatternLayout;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.LoggerFactory;

/**
 * Everything the test JVM logs while a class of the security suite runs: every Logback event of every logger,
 * formatted with its MDC and its full stack trace (exception messages and causes are where secrets slip out), and
 * whatever is printed straight to {@code System.out} or {@code System.err} (a stray {@code printStackTrace}). Lines
 * are kept with the name of the class that was running, for the per-class check and for the final one over the
 * whole suite ({@link SecretsInLogsTest}).
 */
final class LogCapture {
  /** One captured line and the suite class that was running when it was written. */
  record Line(String testClass, String text) {}

  private static final String APPENDER = "security-suite-capture";
  private static final List<Line> LINES = new ArrayList<>();
  private static final Appender APPENDER_INSTANCE = new Appender();
  private static String running;
  private static PrintStream out;
  private static PrintStream err;

  private LogCapture() {}

  /** Starts capturing for {@code testClass}: from now until {@link #stop()}, every line is kept. */
  static synchronized void start(String testClass) {
    running = testClass;
    Logger root = root();
    if (root.getAppender(APPENDER) == null) {
      APPENDER_INSTANCE.start();
      root.addAppender(APPENDER_INSTANCE);
    }
    if (out == null) {
      out = System.out;
      err = System.err;
      System.setOut(new Tee(out));
      System.setErr(new Tee(err));
    }
  }

  /** Stops capturing (lines already kept stay); a class of another suite logs nothing into it. */
  static synchronized void stop() {
    root().detachAppender(APPENDER);
    if (out != null) {
      System.setOut(out);
      System.setErr(err);
      out = null;
      err = null;
    }
    running = null;
  }

  static synchronized List<Line> lines() {
    return List.copyOf(LINES);
  }

  static synchronized List<Line> linesOf(String testClass) {
    return LINES.stream().filter(line -> line.testClass().equals(testClass)).toList();
  }

  private static synchronized void keep(String text) {
    if (running != null) {
      LINES.add(new Line(running, text));
    }
  }

  private static Logger root() {
    return ((LoggerContext) LoggerFactory.getILoggerFactory()).getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
  }

  /** Formats each event as the console would, plus its MDC and every frame and cause of its exception. */
  private static final class Appender extends AppenderBase<ILoggingEvent> {
    private final PatternLayout layout = new PatternLayout();

    Appender() {
      setName(APPENDER);
      LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
      setContext(context);
      layout.setContext(context);
      layout.setPattern("%-5level [%thread] %logger %mdc - %msg%n%ex{full}");
      layout.start();
    }

    @Override
    protected void append(ILoggingEvent event) {
      keep(layout.doLayout(event));
    }
  }

  /** Passes everything on to the stream it replaces, and keeps each complete line. */
  private static final class Tee extends PrintStream {
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream();

    Tee(PrintStream target) {
      super(target, true, StandardCharsets.UTF_8);
    }

    @Override
    public synchronized void write(int b) {
      super.write(b);
      collect(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public synchronized void write(byte[] buf, int off, int len) {
      super.write(buf, off, len);
      collect(buf, off, len);
    }

    private void collect(byte[] buf, int off, int len) {
      for (int i = off; i < off + len; i++) {
        if (buf[i] == '\n') {
          keep(pending.toString(StandardCharsets.UTF_8));
          pending.reset();
        } else {
          pending.write(buf[i]);
        }
      }
    }
  }
}

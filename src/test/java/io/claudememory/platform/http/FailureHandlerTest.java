package io.claudememory.platform.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.sql.SQLException;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("Failures become problems with the status that describes them")
class FailureHandlerTest {
  @Test
  @DisplayName("a database out of connections is a 503 also when JDBC reports it through a wrapper (a migration)")
  void wrappedJdbcStates() {
    SQLException tooMany = new SQLException("FATAL: sorry, too many clients already", "53300");
    RuntimeException flyway = new RuntimeException("Unable to obtain connection from database", tooMany);
    assertEquals(503, FailureHandler.toProblem(flyway, -1).status());
    assertEquals(503, FailureHandler.toProblem(new SQLException("refused", "08001"), -1).status());
    assertEquals(409, FailureHandler.toProblem(new IllegalStateException(new SQLException("dup", "23505")), -1)
        .status());
  }

  @Test
  @DisplayName("anything else unexpected stays a 500")
  void unexpected() {
    assertEquals(500, FailureHandler.toProblem(new SQLException("no such table", "42P01"), -1).status());
    assertEquals(500, FailureHandler.toProblem(new NullPointerException(), -1).status());
  }
}

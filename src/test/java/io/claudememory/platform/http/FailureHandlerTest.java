package io.claudememory.platform.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.sql.SQLException;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("Failures become problems: a database that cannot take the work is a 503, not a 500")
class FailureHandlerTest {
  @Test
  @DisplayName("a JDBC error anywhere in the chain saying the database is out of connections or going down is a 503")
  void jdbcUnavailable() {
    for (String state : new String[] {"53300", "57P01", "57P03", "08006", "08001"}) {
      Throwable wrapped = new IllegalStateException("Unable to obtain connection",
          new RuntimeException(new SQLException("FATAL: remaining connection slots are reserved", state)));
      ApiException problem = FailureHandler.toProblem(wrapped, -1);
      assertEquals(503, problem.status(), state);
      assertEquals("5", problem.retryAfter(), state);
    }
  }

  @Test
  @DisplayName("other JDBC errors, and failures without a cause, stay 500s")
  void otherErrors() {
    assertEquals(500, FailureHandler.toProblem(new RuntimeException(new SQLException("boom", "42P01")), -1).status());
    assertEquals(500, FailureHandler.toProblem(new RuntimeException(new SQLException("no state")), -1).status());
    assertEquals(500, FailureHandler.toProblem(new IllegalStateException("bug"), -1).status());
  }
}

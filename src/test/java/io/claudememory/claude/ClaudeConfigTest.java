package io.claudememory.claude;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.claudememory.config.AppConfig;
import io.claudememory.config.ConfigException;
import io.claudememory.config.ConfigReader;
import io.claudememory.support.TestServer;
import java.nio.file.Files;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("Claude configuration: the provider follows what is configured, and mistakes stop start-up with one line")
class ClaudeConfigTest {

  private static AppConfig.Claude read(Map<String, String> env) throws Exception {
    Map<String, String> all = new HashMap<>(env);
    all.put("DATA_DIR", Files.createTempDirectory("cmb-claude-config").toString());
    return ConfigReader.read(TestServer.packagedYaml(), all).claude();
  }

  @Test
  @DisplayName("auto picks anthropic with an API key, else n8n with a webhook, else none")
  void autoProvider() throws Exception {
    assertEquals("none", read(Map.of()).effectiveProvider());
    assertEquals("n8n", read(Map.of("N8N_WEBHOOK_URL", "http://n8n:5678/webhook/x")).effectiveProvider());
    assertEquals("anthropic", read(Map.of("ANTHROPIC_API_KEY", "k", "N8N_WEBHOOK_URL", "http://n8n/x"))
        .effectiveProvider());
    assertEquals("none", read(Map.of("ANTHROPIC_API_KEY", "k", "CLAUDE_PROVIDER", "none")).effectiveProvider());
  }

  @Test
  @DisplayName("defaults follow the official SDK's retries and keep the budget off")
  void defaults() throws Exception {
    AppConfig.Claude claude = read(Map.of());
    assertEquals(2, claude.maxRetries());
    assertEquals(500, claude.retryBaseMs());
    assertEquals(8000, claude.retryMaxMs());
    assertEquals(0, claude.dailyTokenBudget(), "no budget unless configured");
    assertEquals(200_000, claude.contextTokensOf("any-model"));
    assertEquals(1500, read(Map.of("CMB_CLAUDE_MODEL_CONTEXT_TOKENS", "small=1500, big=900000"))
        .contextTokensOf("small"));
    assertTrue(read(Map.of("ANTHROPIC_API_KEY", "secret-key")).toString().indexOf("secret-key") < 0,
        "the key is never printed");
  }

  @Test
  @DisplayName("an explicit provider without its setting, or an unknown one, is refused")
  void mistakes() {
    assertEquals("CLAUDE_PROVIDER=anthropic needs ANTHROPIC_API_KEY",
        assertThrows(ConfigException.class, () -> read(Map.of("CLAUDE_PROVIDER", "anthropic"))).getMessage());
    assertEquals("CLAUDE_PROVIDER=n8n needs N8N_WEBHOOK_URL",
        assertThrows(ConfigException.class, () -> read(Map.of("CLAUDE_PROVIDER", "n8n"))).getMessage());
    assertTrue(assertThrows(ConfigException.class, () -> read(Map.of("CLAUDE_PROVIDER", "openai"))).getMessage()
        .startsWith("CLAUDE_PROVIDER must be"));
    assertTrue(assertThrows(ConfigException.class, () -> read(Map.of("CMB_CLAUDE_MODEL_CONTEXT_TOKENS", "oops")))
        .getMessage().startsWith("claude.modelContextTokens"));
  }
}

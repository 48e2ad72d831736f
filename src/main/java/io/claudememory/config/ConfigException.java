package io.claudememory.config;

/** A configuration problem, said in one line that names the key and what is wrong with it. */
public final class ConfigException extends RuntimeException {
  public ConfigException(String message) {
    super(message, null, false, false);
  }
}

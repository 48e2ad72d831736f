package io.claudememory.projects;

/** What a caller may do with a project and everything in it: members read or also write; only the owner manages. */
public enum Role {
  VIEWER, EDITOR, OWNER;

  public boolean canWrite() {
    return this != VIEWER;
  }

  public boolean owner() {
    return this == OWNER;
  }

  public String wire() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }

  /** A member role as stored in {@code project_shares}. */
  public static Role ofShare(String value) {
    return "editor".equals(value) ? EDITOR : VIEWER;
  }
}

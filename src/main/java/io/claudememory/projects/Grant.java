package io.claudememory.projects;

import io.claudememory.platform.http.ApiException;
import java.util.UUID;

/**
 * Where a project or conversation lives and what the caller may do with it: {@code tenant} is the user whose database
 * holds it (the caller, or the owner of a project shared with them); {@code projectId} is the project it belongs to,
 * if any.
 */
public record Grant(UUID tenant, Role role, UUID projectId) {

  /** The caller may change it (post messages, create conversations in the project, patch conversations). */
  public Grant requireWrite() {
    if (!role.canWrite()) {
      throw ApiException.forbidden("A viewer of this project cannot change it.");
    }
    return this;
  }

  /** Only the owner may do this (delete, manage members, move between projects). */
  public Grant requireOwner(String action) {
    if (!role.owner()) {
      throw ApiException.forbidden("Only the owner of this project can " + action + ".");
    }
    return this;
  }
}

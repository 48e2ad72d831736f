package io.claudememory.claude;

import java.util.UUID;

/**
 * The text an answer in progress has produced so far: everything up to and including delta {@code index} (-1: none
 * yet). A late joiner sends {@code text} first, then only deltas whose index is greater.
 */
public record StreamSnapshot(UUID messageId, String text, int index) {}

package io.claudememory.portability;

import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * A conversation read from another service's export, ready to be written: new local ids, parents resolved (a
 * parent missing from the export makes a root), {@code seq} assigned so that every parent precedes its children and
 * siblings follow their time, and the current leaf chosen.
 */
record Imported(String source, String sourceId, String title, String summary, boolean archived, String model,
    Instant createdAt, Instant updatedAt, UUID currentLeafId, List<Message> messages, String projectSourceId) {

  /** One message, with its local id and its parent's. */
  record Message(UUID id, UUID parentId, long seq, String role, String content, Object blocks, String model,
      String stopReason, JsonObject usage, Instant createdAt) {}

  /** A message as read, before ordering: source id and source parent id. */
  record Draft(String sourceId, String parentSourceId, String role, String content, Object blocks, String model,
      String stopReason, Instant createdAt, int index) {}

  /** Orders drafts, gives them local ids and sequence numbers, and resolves the current leaf. */
  static List<Message> order(List<Draft> drafts, Map<String, UUID> ids) {
    Map<String, Draft> bySource = new HashMap<>();
    drafts.forEach(d -> bySource.put(d.sourceId(), d));
    drafts.forEach(d -> ids.put(d.sourceId(), UUID.randomUUID()));
    List<Draft> sorted = new ArrayList<>(drafts);
    sorted.sort(Comparator.comparing(Draft::createdAt).thenComparingInt(Draft::index));
    List<Message> out = new ArrayList<>();
    Set<String> placed = new HashSet<>();
    for (Draft draft : sorted) {
      Deque<Draft> chain = new ArrayDeque<>();
      Set<String> seen = new HashSet<>();
      for (Draft d = draft; d != null && !placed.contains(d.sourceId()) && seen.add(d.sourceId());
          d = d.parentSourceId() == null ? null : bySource.get(d.parentSourceId())) {
        chain.push(d);
      }
      while (!chain.isEmpty()) {
        Draft d = chain.pop();
        placed.add(d.sourceId());
        String parent = d.parentSourceId();
        // a parent outside the export, or one that would close a cycle, makes this message a root
        UUID parentId = parent != null && placed.contains(parent) && !parent.equals(d.sourceId()) ? ids.get(parent)
            : null;
        out.add(new Message(ids.get(d.sourceId()), parentId, out.size() + 1, d.role(), d.content(), d.blocks(),
            d.model(), d.stopReason(), null, d.createdAt()));
      }
    }
    return out;
  }

  /** The newest message that has no children. */
  static UUID newestLeaf(List<Message> messages) {
    Set<UUID> parents = new HashSet<>();
    messages.forEach(m -> parents.add(m.parentId()));
    return messages.stream().filter(m -> !parents.contains(m.id()))
        .max(Comparator.comparing(Message::createdAt).thenComparingLong(Message::seq)).map(Message::id).orElse(null);
  }

  /** A title for a conversation that has none: its first user words, else a placeholder. */
  static String titleFrom(List<Message> messages) {
    return messages.stream().filter(m -> m.role().equals("user") && !m.content().isBlank()).findFirst()
        .map(m -> {
          String line = m.content().strip().split("\n", 2)[0].strip();
          return line.length() > 80 ? line.substring(0, 77) + "..." : line;
        }).orElse("Untitled conversation");
  }
}

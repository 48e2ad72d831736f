package io.claudememory.realtime;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One socket in one room. Confined to the socket's event loop.
 *
 * <p>Ordering rule: a socket never receives a {@code message.created} whose seq it already has, and never silently
 * skips one. While joining or catching up ({@code syncing}) live events are buffered; persisted messages after
 * {@code lastSent} are read from the database and sent; then the buffer is flushed, dropping what was already sent.
 * A live event that skips ahead starts a catch-up from the database: seqs are allocated under the conversation's row
 * lock and published after commit, so every earlier one is readable. Swapped publications are put back in order for
 * the whole room by {@link RoomOrder} first, so this happens only at the edges (an event lost for good, a join racing
 * the room's first events).
 *
 * <p>Answers in progress: a joiner gets each one's text so far as one {@code assistant.delta} with {@code snapshot:
 * true} and the {@code index} of the last delta it includes. Deltas it already includes can still reach this socket
 * (buffered during the join, or published just after the snapshot was read); they are dropped here, so nothing
 * arrives twice. With the answer on this node the snapshot is read from memory after the socket subscribed, so the
 * snapshot followed by the deltas is exactly the answer. A snapshot read from Redis (answer on another node) is
 * read once more two flush intervals later, so that it also holds the deltas published before this socket subscribed.
 */
final class Membership {
  private static final int BUFFER_LIMIT = 10_000;
  final Session session;
  final RoomGrant grant;
  private final ArrayDeque<Buffered> buffer = new ArrayDeque<>();
  /** Answer (message id) → index of the last delta its snapshot sent here included; until that answer ends. */
  private final Map<String, Integer> snapshotted = new HashMap<>();
  private long lastSent = -1;
  private boolean syncing;
  private boolean active = true;
  private int generation;
  int memberCount;
  boolean present;

  private record Buffered(JsonObject envelope, String text) {}

  Membership(Session session, RoomGrant grant) {
    this.session = session;
    this.grant = grant;
  }

  String roomId() {
    return grant.conversation().toString();
  }

  /** Joins (or re-joins): {@code joined}, the replay after {@code since}, streams in progress, then live events. */
  Future<Void> join(Long since) {
    int gen = ++generation;
    syncing = true;
    Realtime rt = session.hub.rt;
    return step("subscribing", session.hub.attach(this))
        .compose(subscribed -> step("reading last_seq", session.hub.lastSeq(grant)))
        .compose(lastSeq -> step("replaying", replayFor(since, lastSeq)).compose(replay -> step("reading presence",
            session.hub.members(grant))
            .compose(members -> step("reading streams", session.here(rt.snapshots.inProgress(grant.tenant(),
                grant.conversation())))
                .map(snapshots -> {
                  if (gen != generation || !active) {
                    return null;
                  }
                  List<String> everyone = new ArrayList<>(members);
                  String me = session.principal.userId().toString();
                  if (!everyone.contains(me)) {
                    everyone.add(0, me);
                  }
                  memberCount = everyone.size();
                  List<String> shown = everyone.size() > rt.settings.presenceMaxRoomSize()
                      ? everyone.subList(0, rt.settings.presenceMaxRoomSize()) : everyone;
                  JsonObject joined = new JsonObject().put("room_id", roomId()).put("last_seq", lastSeq)
                      .put("members", new JsonArray(shown)).put("member_count", everyone.size());
                  if (since != null) {
                    joined.put("recovered", replay.recovered());
                  }
                  session.send(Frames.frame(Frames.JOINED, joined));
                  sendPersisted(replay.messages());
                  lastSent = Math.max(lastSent, replay.lastSent());
                  snapshotted.clear();
                  snapshots.forEach(this::sendSnapshot);
                  flush(false);
                  return null;
                }))));
  }

  /** Names the step of a join that failed, for the log (some client failures carry no stack trace). */
  private static <T> Future<T> step(String what, Future<T> future) {
    return future.recover(err -> Future.failedFuture(new IllegalStateException("join: " + what + " failed: " + err,
        err)));
  }

  private record Replay(boolean recovered, List<JsonObject> messages, long lastSent) {}

  private Future<Replay> replayFor(Long since, long lastSeq) {
    int maxEvents = session.hub.rt.settings.resumeMaxEvents();
    int window = session.hub.rt.settings.resumeWindowSeconds();
    if (since == null || since >= lastSeq) {
      return Future.succeededFuture(new Replay(true, List.of(), lastSeq));
    }
    if (lastSeq - since > maxEvents) {
      return Future.succeededFuture(new Replay(false, List.of(), lastSeq));
    }
    return session.here(session.hub.rt.history.after(grant, since, maxEvents + 1)).map(messages -> {
      Instant oldest = messages.isEmpty() ? Instant.now() : Instant.parse(messages.get(0).getString("createdAt"));
      if (messages.size() > maxEvents || oldest.isBefore(Instant.now().minusSeconds(window))) {
        return new Replay(false, List.of(), lastSeq);
      }
      long last = messages.isEmpty() ? since : messages.get(messages.size() - 1).getLong("seq");
      return new Replay(true, messages, last);
    });
  }

  /** A live event for this room, in publication order on this event loop. */
  void onEvent(JsonObject envelope, String text) {
    if (!active) {
      return;
    }
    if (syncing) {
      if (buffer.size() < BUFFER_LIMIT || envelope.containsKey("seq")) {
        buffer.add(new Buffered(envelope, text));
      }
      return;
    }
    dispatch(envelope, text, false);
  }

  /** Events on this room may have been lost (the fan-out reconnected): read what was persisted since. */
  void resync() {
    if (active && !syncing && lastSent >= 0) {
      syncing = true;
      catchUp();
    }
  }

  void leave() {
    active = false;
    generation++;
    buffer.clear();
    snapshotted.clear();
  }

  private void sendSnapshot(JsonObject frame) {
    JsonObject data = frame.getJsonObject("data");
    snapshotted.put(data.getString("message_id"), data.getInteger("index", -1));
    session.send(frame);
  }

  /** A delta the snapshot sent here already included; an answer's end forgets its snapshot. */
  private boolean inSnapshot(JsonObject envelope) {
    JsonObject frame = envelope.getJsonObject("frame");
    JsonObject data = frame.getJsonObject("data");
    Integer through = snapshotted.get(data.getString("message_id"));
    if (through == null) {
      return false;
    }
    String type = frame.getString("type");
    if (Frames.ASSISTANT_DELTA.equals(type)) {
      return data.getInteger("index", Integer.MAX_VALUE) <= through;
    }
    if (Frames.ASSISTANT_DONE.equals(type) || Frames.ASSISTANT_ERROR.equals(type)) {
      snapshotted.remove(data.getString("message_id"));
    }
    return false;
  }

  private void dispatch(JsonObject envelope, String text, boolean acceptGap) {
    Long seq = envelope.getLong("seq");
    if (seq != null) {
      if (seq <= lastSent) {
        return;
      }
      if (seq > lastSent + 1 && !acceptGap) {
        syncing = true;
        buffer.addFirst(new Buffered(envelope, text));
        catchUp();
        return;
      }
      lastSent = seq;
    } else if (!snapshotted.isEmpty() && inSnapshot(envelope)) {
      return;
    }
    if (session.id.equals(envelope.getString("exclude"))) {
      return;
    }
    session.deliver(text, envelope);
  }

  private void catchUp() {
    int gen = generation;
    int batch = Math.max(100, session.hub.rt.settings.resumeMaxEvents());
    session.here(session.hub.rt.history.after(grant, lastSent, batch)).onComplete(ar -> {
      if (gen != generation || !active) {
        return;
      }
      if (ar.failed()) {
        session.send(Frames.error(Frames.UNAVAILABLE, "Events of this room could not be read back; join it again "
            + "with since_seq.", null).put("room_id", roomId()));
        flush(true);
        return;
      }
      List<JsonObject> messages = ar.result();
      long before = lastSent;
      sendPersisted(messages);
      if (messages.size() == batch) {
        catchUp();
        return;
      }
      flush(lastSent == before);
    });
  }

  private void sendPersisted(List<JsonObject> messages) {
    for (JsonObject message : messages) {
      long seq = message.getLong("seq");
      if (seq > lastSent) {
        session.send(Frames.frame(Frames.MESSAGE_CREATED, Frames.messageCreated(roomId(), message)));
        session.hub.rt.metrics.replayed.increment();
        lastSent = seq;
      }
    }
  }

  /** Leaves syncing and delivers the buffer; {@code acceptGap}: the database had nothing newer, accept skips. */
  private void flush(boolean acceptGap) {
    syncing = false;
    while (!syncing && !buffer.isEmpty()) {
      Buffered next = buffer.poll();
      dispatch(next.envelope(), next.text(), acceptGap);
    }
  }
}

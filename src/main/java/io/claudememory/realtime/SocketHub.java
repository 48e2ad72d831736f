package io.claudememory.realtime;

import io.claudememory.auth.UserInvalidations;
import io.claudememory.platform.Contexts;
import io.claudememory.platform.EventAddresses;
import io.claudememory.platform.http.ApiException;
import io.claudememory.platform.http.Principal;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The sockets of one HTTP verticle (one event loop): the {@code /ws} upgrade, one event-bus consumer per room or user
 * address that has sockets here (each event is encoded once and written to every socket in that room), and the
 * heartbeat. Everything here runs on that event loop, so nothing is locked.
 */
final class SocketHub {
  final Realtime rt;
  private final Context context;
  private final Map<String, Channel<Membership>> rooms = new HashMap<>();
  private final Map<String, Channel<Session>> users = new HashMap<>();
  private final Set<Session> sessions = new LinkedHashSet<>();
  private final Map<String, SeqRead> seqReads = new HashMap<>();
  private final Map<String, CachedGrant> grants = new HashMap<>();
  private final Map<String, Future<List<String>>> memberReads = new HashMap<>();
  private final MessageConsumer<JsonObject> resync;
  private final long heartbeat;

  /** An address with sockets on this loop, and its consumer. */
  private static final class Channel<T> {
    final Set<T> members = new LinkedHashSet<>();
    MessageConsumer<JsonObject> consumer;
    /** Rooms only: their persisted events in seq order. */
    RoomOrder order;
    /** Users only: the announcement that the account or one of its sign-ins changed, on every node. */
    MessageConsumer<JsonObject> changed;
  }

  /** One last_seq read in flight per room; joiners arriving meanwhile share the next read, started after it. */
  private static final class SeqRead {
    Promise<Long> current;
    Promise<Long> next;
  }

  private record CachedGrant(Future<RoomGrant> grant, long until) {}

  /** How long a room grant is reused for the same user on this loop: a reconnect storm costs one check per user. */
  private static final long GRANT_CACHE_NANOS = 5_000_000_000L;
  private static final int GRANT_CACHE_MAX = 10_000;

  SocketHub(Realtime rt, Context context) {
    this.rt = rt;
    this.context = context;
    this.resync = rt.bus.localConsumer(EventAddresses.REALTIME_RESYNC, msg -> resync(msg.body()));
    long tick = Math.max(20, Math.min(rt.settings.pingIntervalMs(), rt.settings.pongTimeoutMs()) / 4);
    this.heartbeat = context.owner().setPeriodic(tick, id -> beat());
  }

  Vertx vertx() {
    return context.owner();
  }

  /** {@code GET /ws}: credential from {@code ?token=} or {@code Sec-WebSocket-Protocol: bearer, <token>}, or none. */
  void upgrade(RoutingContext ctx) {
    HttpServerRequest request = ctx.request();
    String credential = request.getParam("token");
    if (credential == null) {
      credential = Credentials.fromSubprotocols(request.getHeader("Sec-WebSocket-Protocol"));
    }
    if (credential == null) {
      accept(ctx, null, null);
      return;
    }
    request.pause();
    String token = credential;
    here(rt.authenticator.authenticate(credential)).onComplete(ar -> {
      if (ar.failed()) {
        request.resume();
        ctx.response().putHeader("WWW-Authenticate", "Bearer error=\"invalid_token\"");
        ctx.fail(ApiException.unauthorized("The WebSocket credential is not valid."));
      } else {
        accept(ctx, ar.result(), token);
      }
    });
  }

  private void accept(RoutingContext ctx, Principal principal, String credential) {
    ctx.request().toWebSocket().onSuccess(ws -> {
      Session session = new Session(this, ws);
      sessions.add(session);
      session.start(principal, credential);
    }).onFailure(err -> {
      if (!ctx.response().ended()) {
        ctx.fail(400, err);
      }
    });
  }

  /** Subscribes the membership to its room's events; completes once the consumer is registered. */
  Future<Void> attach(Membership membership) {
    String address = membership.grant.address();
    Channel<Membership> channel = rooms.get(address);
    if (channel == null) {
      Channel<Membership> created = new Channel<>();
      channel = created;
      rooms.put(address, channel);
      channel.order = new RoomOrder(this, membership.grant, (envelope, text) -> {
        for (Membership member : List.copyOf(created.members)) {
          member.onEvent(envelope, text);
        }
        delivered(envelope);
      });
      channel.consumer = rt.bus.localConsumer(address, msg -> onRoomEvent(address, msg.body()));
      rt.nodeRooms.acquire(address);
    }
    channel.members.add(membership);
    return channel.consumer.completion().compose(registered -> here(rt.remoteReady(address)));
  }

  /** A socket's first join of a room succeeded: count it in presence, tell the room. */
  void arrived(Membership membership) {
    membership.present = true;
    if (rt.presence.add(membership.grant, membership.session.principal.userId())
        && membership.memberCount < rt.settings.presenceMaxRoomSize()) {
      rt.events.publishPresence(membership.grant, membership.session.principal.userId(), "join");
    }
  }

  void leave(Membership membership) {
    membership.leave();
    String address = membership.grant.address();
    Channel<Membership> channel = rooms.get(address);
    if (channel != null && channel.members.remove(membership) && channel.members.isEmpty()) {
      rooms.remove(address);
      channel.order.close();
      channel.consumer.unregister();
      rt.nodeRooms.release(address);
    }
    if (membership.present && rt.presence.remove(membership.grant, membership.session.principal.userId())
        && membership.memberCount <= rt.settings.presenceMaxRoomSize()) {
      rt.events.publishPresence(membership.grant, membership.session.principal.userId(), "leave");
    }
  }

  void attachUser(Session session) {
    String address = EventAddresses.user(session.principal.userId());
    Channel<Session> channel = users.computeIfAbsent(address, a -> {
      Channel<Session> created = new Channel<>();
      created.consumer = rt.bus.localConsumer(a, msg -> onUserEvent(a, msg.body()));
      created.changed = rt.bus.localConsumer(UserInvalidations.changedAddress(session.principal.userId()),
          msg -> List.copyOf(created.members).forEach(this::recheck));
      rt.nodeRooms.acquire(a);
      return created;
    });
    channel.members.add(session);
  }

  void detachUser(Session session) {
    String address = EventAddresses.user(session.principal.userId());
    Channel<Session> channel = users.get(address);
    if (channel != null && channel.members.remove(session) && channel.members.isEmpty()) {
      users.remove(address);
      channel.consumer.unregister();
      channel.changed.unregister();
      rt.nodeRooms.release(address);
    }
  }

  /**
   * The room's newest seq, read after the caller's membership is attached: a read already in flight may predate the
   * attachment, so later callers share the next read instead. A join storm costs two reads per room, not one each.
   */
  Future<Long> lastSeq(RoomGrant grant) {
    SeqRead read = seqReads.computeIfAbsent(grant.address(), a -> new SeqRead());
    if (read.current == null) {
      read.current = Promise.promise();
      readSeq(grant, read);
      return read.current.future();
    }
    if (read.next == null) {
      read.next = Promise.promise();
    }
    return read.next.future();
  }

  private void readSeq(RoomGrant grant, SeqRead read) {
    Promise<Long> promise = read.current;
    here(rt.history.lastSeq(grant)).onComplete(ar -> {
      Channel<Membership> channel = rooms.get(grant.address());
      if (ar.succeeded() && channel != null) {
        channel.order.knownUpTo(ar.result());
      }
      promise.handle(ar);
      if (read.next != null) {
        read.current = read.next;
        read.next = null;
        readSeq(grant, read);
      } else {
        seqReads.remove(grant.address());
      }
    });
  }

  /** Who is in the room; joins arriving while a read is in flight share it. */
  Future<List<String>> members(RoomGrant grant) {
    String address = grant.address();
    Future<List<String>> read = memberReads.get(address);
    if (read == null) {
      read = here(rt.presence.members(grant));
      memberReads.put(address, read);
      Future<List<String>> mine = read;
      read.onComplete(ar -> memberReads.remove(address, mine));
    }
    return read;
  }

  /**
   * The user's account or sign-ins changed (deactivation, logout, refresh-token reuse, password change): the socket's
   * credential is checked again, and a socket whose credential no longer holds is closed with 4401. A check that
   * fails for another reason (the database unreachable) leaves the socket open.
   */
  private void recheck(Session session) {
    here(rt.authenticator.authenticate(session.credential)).onFailure(err -> {
      if (err instanceof ApiException problem && problem.status() == 401) {
        session.close(Frames.CLOSE_UNAUTHENTICATED, "credential no longer valid");
      }
    });
  }

  /** Room access for a user, shared by concurrent joins and reused briefly; refusals are never cached. */
  Future<RoomGrant> resolve(Principal principal, java.util.UUID room) {
    String key = principal.userId() + "/" + room;
    long now = System.nanoTime();
    CachedGrant cached = grants.get(key);
    if (cached != null && now < cached.until() && !cached.grant().failed()) {
      return cached.grant();
    }
    if (grants.size() >= GRANT_CACHE_MAX) {
      grants.clear();
    }
    Future<RoomGrant> grant = here(rt.access.resolve(principal, room));
    grants.put(key, new CachedGrant(grant, now + GRANT_CACHE_NANOS));
    grant.onFailure(err -> grants.remove(key));
    return grant;
  }

  void forget(Session session) {
    sessions.remove(session);
  }

  private void onRoomEvent(String address, JsonObject envelope) {
    Channel<Membership> channel = rooms.get(address);
    if (channel == null) {
      return;
    }
    channel.order.accept(envelope, envelope.getJsonObject("frame").encode());
  }

  private void onUserEvent(String address, JsonObject envelope) {
    Channel<Session> channel = users.get(address);
    if (channel == null) {
      return;
    }
    String text = envelope.getJsonObject("frame").encode();
    for (Session session : List.copyOf(channel.members)) {
      session.deliver(text, envelope);
    }
    delivered(envelope);
  }

  /** Fan-out delay: publish (on whichever node) → the last socket write for it on this loop. */
  private void delivered(JsonObject envelope) {
    Long at = envelope.getLong("at");
    if (at != null) {
      rt.metrics.delivered(at);
    }
  }

  private void resync(JsonObject notice) {
    Set<String> addresses = new LinkedHashSet<>(notice.getJsonArray("addresses").getList());
    rooms.forEach((address, channel) -> {
      if (addresses.contains(address)) {
        List.copyOf(channel.members).forEach(Membership::resync);
      }
    });
  }

  private void beat() {
    long now = System.nanoTime();
    long pingEvery = rt.settings.pingIntervalMs() * 1_000_000L;
    long pongWithin = rt.settings.pongTimeoutMs() * 1_000_000L;
    for (Session session : new ArrayList<>(sessions)) {
      if (session.gone()) {
        continue;
      }
      if (session.awaitingPong) {
        if (now - session.pingSentAt > pongWithin) {
          rt.metrics.heartbeatCloses.increment();
          session.close(Frames.CLOSE_PONG_TIMEOUT, "no pong");
        }
      } else if (now - session.lastHeard >= pingEvery) {
        session.awaitingPong = true;
        session.pingSentAt = now;
        session.ws.writePing(io.vertx.core.buffer.Buffer.buffer());
      }
    }
  }

  /** Runs {@code future}'s continuation on this event loop, whatever context completes it. */
  <T> Future<T> here(Future<T> future) {
    return Contexts.on(context, future);
  }

  /** Closes every socket with 1001 (node shutting down) and stops the heartbeat. */
  Future<Void> shutdown() {
    Promise<Void> done = Promise.promise();
    context.runOnContext(v -> {
      context.owner().cancelTimer(heartbeat);
      resync.unregister();
      List<Future<Void>> closing = new ArrayList<>();
      for (Session session : new ArrayList<>(sessions)) {
        if (!session.closed) {
          session.closed = true;
          closing.add(session.ws.close(Frames.CLOSE_GOING_AWAY, "server shutting down"));
        }
      }
      Future.join(closing).onComplete(ar -> done.complete());
    });
    return done.future();
  }

  /** The credential's place in the subprotocol list: {@code bearer, <token>}. */
  static final class Credentials {
    private Credentials() {}

    static String fromSubprotocols(String header) {
      if (header == null) {
        return null;
      }
      String[] parts = header.split(",");
      for (int i = 0; i < parts.length - 1; i++) {
        if (parts[i].trim().equalsIgnoreCase("bearer")) {
          String token = parts[i + 1].trim();
          return token.isEmpty() ? null : token;
        }
      }
      return null;
    }
  }
}
